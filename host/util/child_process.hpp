// Starting and ending child processes: the one way pyhost does it (worker processes, the
// free-threaded companion, compare's and batch's `pyhost run` children, the C++ compiler of the
// kernel engine). fork + exec with everything prepared before the fork, so that the child makes
// only async-signal-safe calls in a multi-threaded host; an exec that fails is reported through
// a close-on-exec pipe as an exception in the parent, never as a child that exits 127.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace pyhost {

struct ChildSpec {
  std::filesystem::path exe;      // run as is (no PATH search)
  std::vector<std::string> args;  // argv[1..]; no shell involved
  // The child's environment: this process's, less `unset_env`, with `set_env` on top.
  std::vector<std::string> unset_env;
  std::map<std::string, std::string> set_env;
  std::filesystem::path cwd;  // empty: this process's
  // Child fd -> this process's fd to give it there (-1: /dev/null). fds not named are inherited
  // as they are (0, 1, 2) or closed on exec (pyhost opens everything else close-on-exec).
  std::map<int, int> fds;
  // A process group of its own: signal_group() then reaches what it started too.
  bool own_process_group = false;
  // SIGTERM when this process dies, even by SIGKILL: nothing runs on unrecorded.
  bool terminate_with_parent = false;
};

struct ExitStatus {
  std::optional<int> exit_code;  // set when the child exited (-1: reaped by someone else)
  int signal = 0;                // set when a signal killed it
  double cpu_s = 0;              // user + system, its reaped descendants included
  // "exited with status 7", "killed by SIGSEGV".
  std::string describe() const;
  // The shell's convention: the exit code, or 128 + the signal.
  int shell_code() const { return signal ? 128 + signal : exit_code.value_or(1); }
};

// A started child; move-only. One still running when its owner goes is killed (its group when it
// has one) and reaped: no orphans, no zombies.
class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws std::runtime_error naming the program when it cannot be started (missing, not
  // executable, a bad cwd).
  static ChildProcess start(const ChildSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Not reaped yet (it may have exited: try_wait() says).
  bool running() const { return pid_ > 0; }
  // The exit status once reaped.
  const std::optional<ExitStatus>& exit_status() const { return status_; }

  // Reaps the child if it has exited; never blocks.
  std::optional<ExitStatus> try_wait();
  // Blocks until the child exits (EINTR retried).
  ExitStatus wait();
  // Waits until it exits or `deadline` passes (nullopt then); no polling loop (a pidfd).
  std::optional<ExitStatus> wait_until(Clock::time_point deadline);
  // Waits until it has exited or `deadline` passes, without reaping it: its pid stays taken (a
  // zombie) until wait(), so that signals sent by pid meanwhile cannot reach another process.
  bool await_exit(Clock::time_point deadline);
  // SIGTERM, then SIGKILL if it is still there after `grace`; not reaped (see await_exit).
  void terminate(std::chrono::milliseconds grace);

  // Signals the child (no-op once reaped, so a reused pid is never hit).
  void signal(int sig) const;
  // Signals its process group (own_process_group), else the child alone.
  void signal_group(int sig) const;

 private:
  ChildProcess(pid_t pid, bool own_group) : pid_(pid), own_group_(own_group) {}
  std::optional<ExitStatus> reap(int options);

  pid_t pid_ = -1;
  bool own_group_ = false;
  std::optional<ExitStatus> status_;
};

// Runs a child to the end with its stdout (and stderr, when `merge_stderr`) read into a string;
// killed at `timeout` (then the status says so: signal SIGKILL). stdin is /dev/null.
struct CapturedRun {
  ExitStatus status;
  std::string output;
  bool timed_out = false;
};
CapturedRun run_captured(ChildSpec spec, std::chrono::milliseconds timeout, bool merge_stderr);

}  // namespace pyhost
