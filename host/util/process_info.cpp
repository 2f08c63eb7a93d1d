#include "util/process_info.hpp"

#include <string.h>

#include <fmt/format.h>

namespace pyhost {

std::filesystem::path self_exe() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("/proc/self/exe") : exe;
}

std::string signal_name(int signo) {
  if (const char* abbrev = ::sigabbrev_np(signo)) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", signo);
}

}  // namespace pyhost
