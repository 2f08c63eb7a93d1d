#include "util/process_info.hpp"

#include <dlfcn.h>
#include <string.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace pyhost {

std::filesystem::path self_exe() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("/proc/self/exe") : exe;
}

std::filesystem::path library_dir() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&library_dir), &info) == 0 || !info.dli_fname)
    return self_exe().parent_path();
  std::error_code ec;
  std::filesystem::path path = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? self_exe().parent_path() : path.parent_path();
}

std::filesystem::path pyhost_exe() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("PYHOST_EXE"); env && *env) return env;
  const fs::path self = self_exe();
  if (self.filename().string().rfind("pyhost", 0) == 0) return self;
  // A prefix's bin/ beside lib/, the build tree, and a wheel's pyhost/_bin beside pyhost/_lib.
  for (const fs::path& candidate :
       {library_dir().parent_path() / "bin" / "pyhost", library_dir() / "pyhost",
        library_dir().parent_path() / "_bin" / "pyhost"})
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  return {};
}

std::string signal_name(int signo) {
  if (const char* abbrev = ::sigabbrev_np(signo)) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", signo);
}

}  // namespace pyhost
