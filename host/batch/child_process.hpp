// One child process of a batch job, in its own process group so that a timeout or Ctrl-C can
// stop it together with whatever it started. Launched with Boost.Process, reaped with wait4()
// for its own CPU time.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pyhost::batch {

struct LaunchSpec {
  std::filesystem::path exe;
  std::vector<std::string> args;           // argv[1..]; no shell involved
  std::map<std::string, std::string> env;  // added to pyhost's environment
  std::filesystem::path cwd;
  std::filesystem::path stdout_path, stderr_path;  // truncated; stdin is /dev/null
};

struct ExitStatus {
  std::optional<int> exit_code;  // set when the child exited
  int signal = 0;                // set when a signal killed it
  double cpu_s = 0;              // user + system, including its reaped descendants
};

class ChildProcess {
 public:
  // Throws std::runtime_error when the process cannot be started (missing exe, bad cwd, ...).
  static ChildProcess launch(const LaunchSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // A child still running is killed (whole group) and reaped: no orphans, no zombies.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Reaps the child if it has exited; never blocks.
  std::optional<ExitStatus> try_wait();
  // Blocks until the child exits.
  ExitStatus wait();

  // Signals the child's whole process group; no-op once it was reaped.
  void signal_group(int sig) const;

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  std::optional<ExitStatus> reap(int options);

  pid_t pid_ = -1;
};

}  // namespace pyhost::batch
