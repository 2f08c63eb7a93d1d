#include "kernels/cpu_compiler.hpp"

#include <signal.h>
#include <sys/utsname.h>

#include <algorithm>
#include <boost/process.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace pyhost::kernels {
namespace {

// Runs `exe args...`, returns (exit code, stdout+stderr). Throws if it cannot start or does not
// finish in time. (A watchdog thread instead of child::wait_for, which in Boost 1.74 can sleep
// for the whole timeout after the child has exited.)
std::pair<int, std::string> run_capture(const std::string& exe,
                                        const std::vector<std::string>& args,
                                        std::chrono::seconds timeout) {
  bp::ipstream out;
  bp::child child(exe, bp::args(args), (bp::std_out & bp::std_err) > out, bp::std_in.close());
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false, killed = false;
  const auto pid = child.id();
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return finished; })) {
      killed = true;
      ::kill(pid, SIGKILL);
    }
  });
  std::string text, line;
  while (std::getline(out, line)) {
    if (text.size() < 64 * 1024) text += line + "\n";
  }
  std::error_code ec;
  child.wait(ec);
  {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
  }
  cv.notify_all();
  watchdog.join();
  if (killed) {
    throw std::runtime_error(exe + " did not finish within " + std::to_string(timeout.count()) +
                             " s and was killed");
  }
  return {child.exit_code(), text};
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
    fs::path path = cand.find('/') != std::string::npos ? fs::path(cand)
                                                        : fs::path(bp::search_path(cand).string());
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
  static const std::vector<std::string> flags = {"-std=c++17",
                                                 "-O3",
                                                 "-march=native",
                                                 "-fPIC",
                                                 "-shared",
                                                 "-fwrapv",
                                                 "-ffp-contract=off",
                                                 "-fno-math-errno",
                                                 "-fno-strict-aliasing",
                                                 "-w"};
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
