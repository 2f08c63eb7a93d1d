#include "kernels/cpu_compiler.hpp"

#include "util/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;

namespace pyhost::kernels {
namespace {

// Runs `exe args...` (stdin /dev/null), returns (exit code, stdout+stderr, the first 64 KiB).
// Throws if it cannot start or does not finish in time (then it is killed).
std::pair<int, std::string> run_capture(const std::string& exe,
                                        const std::vector<std::string>& args,
                                        std::chrono::seconds timeout) {
  ChildSpec spec;
  spec.exe = exe;
  spec.args = args;
  CapturedRun run = run_captured(std::move(spec), timeout, /*merge_stderr=*/true);
  if (run.timed_out)
    throw std::runtime_error(exe + " did not finish within " + std::to_string(timeout.count()) +
                             " s and was killed");
  if (run.output.size() > 64 * 1024) run.output.resize(64 * 1024);
  return {run.status.shell_code(), std::move(run.output)};
}

// `name` on $PATH, as a shell finds it; empty if it is not there.
fs::path search_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  return {};
}

// What -march=native means to `compiler` on this machine: the target options the driver passes
// to the compiler proper (`-###` prints that command line without running it). Kernels built for
// one CPU must not be loaded on another from a shared cache, so this is part of the cache key.
std::string probe_native_target(const std::string& compiler) {
  try {
    auto [code, text] =
        run_capture(compiler, {"-march=native", "-###", "-E", "-x", "c++", "/dev/null"},
                    std::chrono::seconds(30));
    if (code != 0) return "unknown";
    std::istringstream lines(text);
    std::string line, out;
    while (std::getline(lines, line)) {
      if (line.find("cc1") == std::string::npos) continue;  // cc1plus (GCC), -cc1 (clang)
      std::istringstream words(line);
      std::string w;
      bool keep_next = false;
      while (words >> w) {
        std::string bare = w;
        bare.erase(std::remove(bare.begin(), bare.end(), '"'), bare.end());
        const bool target = bare.rfind("-m", 0) == 0 || bare.rfind("-target-", 0) == 0 ||
                            bare.rfind("--param", 0) == 0;
        if (target || keep_next) out += bare + " ";
        keep_next = bare == "--param" || bare == "-target-cpu" || bare == "-target-feature";
      }
    }
    return out.empty() ? "unknown" : out;
  } catch (const std::exception&) {
    return "unknown";
  }
}

CompilerInfo probe() {
  CompilerInfo info;
  std::vector<std::string> candidates;
  for (const char* var : {"PYHOST_CXX", "CXX"}) {
    if (const char* v = std::getenv(var); v && *v) candidates.emplace_back(v);
  }
  for (const char* name : {"c++", "g++", "clang++"}) candidates.emplace_back(name);
  for (const auto& cand : candidates) {
    fs::path path = cand.find('/') != std::string::npos ? fs::path(cand) : search_path(cand);
    std::error_code ec;
    if (path.empty() || !fs::exists(path, ec)) continue;
    try {
      auto [code, text] = run_capture(path.string(), {"--version"}, std::chrono::seconds(30));
      if (code != 0) continue;
      info.found = true;
      info.path = path.string();
      info.version = text.substr(0, text.find('\n'));
      info.native_target = probe_native_target(info.path);
      return info;
    } catch (const std::exception&) {
      continue;
    }
  }
  info.problem = "no C++ compiler found (set PYHOST_CXX or CXX, or install g++)";
  return info;
}

}  // namespace

const CompilerInfo& cpu_compiler() {
  static std::once_flag once;
  static CompilerInfo* info = nullptr;
  std::call_once(once, [] { info = new CompilerInfo(probe()); });
  return *info;
}

const std::vector<std::string>& cpu_compile_flags() {
  // -O3 -march=native: the vector instructions of the CPU that runs the kernel, for the direct
  // loop (direct.py) and the lanes (lanes.py); GCC 12 vectorises little at -O2. No -ffast-math
  // (and no contraction, below): f64 results stay bit for bit those of Python.
  static const std::vector<std::string> flags = [] {
    std::vector<std::string> f = {"-std=c++17",
                                  "-O3",
                                  "-march=native",
                                  "-fPIC",
                                  "-shared",
                                  "-fwrapv",
                                  "-ffp-contract=off",
                                  "-fno-math-errno",
                                  "-fno-strict-aliasing",
                                  "-w"};
#if defined(__x86_64__) || defined(__i386__)
    // The loops GCC vectorises itself (the direct loop's SAXPY, stencils) stream through the
    // caches: with 256-bit vectors they took 4-17% (SAXPY) and 26% (stencil) less time than
    // with 512-bit ones on AVX-512 (bench/RESULTS.md, session 4). The lanes' own vector types
    // keep the full width.
    f.push_back("-mprefer-vector-width=256");
#endif
    return f;
  }();
  return flags;
}

void compile_shared_object(const fs::path& source_file, const fs::path& output) {
  const CompilerInfo& cc = cpu_compiler();
  if (!cc.found) throw std::runtime_error(cc.problem);
  std::vector<std::string> args = cpu_compile_flags();
  args.push_back("-o");
  args.push_back(output.string());
  args.push_back(source_file.string());
  auto [code, text] = run_capture(cc.path, args, std::chrono::seconds(300));
  if (code != 0) {
    throw std::runtime_error("the C++ compiler (" + cc.path + ") failed with exit code " +
                             std::to_string(code) + ":\n" + text);
  }
}

std::string host_arch() {
  struct utsname u {};
  if (::uname(&u) == 0) return u.machine;
  return "unknown";
}

}  // namespace pyhost::kernels
