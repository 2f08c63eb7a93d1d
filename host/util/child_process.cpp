#include "util/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "util/write_all.hpp"

extern char** environ;

namespace pyhost {
namespace {

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// "NAME=value" entries of the child's environment.
std::vector<std::string> child_environment(const ChildSpec& spec) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    bool drop = spec.set_env.count(name) != 0;
    for (const auto& unset : spec.unset_env) drop = drop || unset == name;
    if (!drop) entries.emplace_back(text);
  }
  for (const auto& [name, value] : spec.set_env) entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> pointers(std::vector<std::string>& words) {
  std::vector<char*> out;
  out.reserve(words.size() + 1);
  for (auto& word : words) out.push_back(word.data());
  out.push_back(nullptr);
  return out;
}

// In the child, between fork and exec: async-signal-safe calls only. On failure the errno goes
// to the parent through `report` and the child ends.
[[noreturn]] void child_fail(int report) {
  const int error = errno;
  write_all(report, std::string_view(reinterpret_cast<const char*>(&error), sizeof error));
  ::_exit(127);
}

}  // namespace

std::string ExitStatus::describe() const {
  // sigabbrev_np: glibc's own table (this file also builds alone with the kernel engine, without
  // the rest of util/).
  if (signal) {
    const char* abbrev = ::sigabbrev_np(signal);
    return abbrev ? std::string("killed by SIG") + abbrev
                  : "killed by signal " + std::to_string(signal);
  }
  return "exited with status " + std::to_string(exit_code.value_or(-1));
}

ChildProcess ChildProcess::start(const ChildSpec& spec) {
  // Everything the child touches after fork() is made here.
  std::vector<std::string> argv_words = {spec.exe.string()};
  argv_words.insert(argv_words.end(), spec.args.begin(), spec.args.end());
  std::vector<std::string> env_words = child_environment(spec);
  std::vector<char*> argv = pointers(argv_words);
  std::vector<char*> envp = pointers(env_words);
  const std::string exe = spec.exe.string();
  const std::string cwd = spec.cwd.string();
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  std::vector<std::pair<int, int>> fds;  // child fd, source fd
  for (const auto& [child_fd, source] : spec.fds)
    fds.emplace_back(child_fd, source < 0 ? devnull.get() : source);
  int report_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot start " + exe + ": pipe: " + std::strerror(errno));
  UniqueFd report_read(report_pipe[0]), report_write(report_pipe[1]);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start " + exe + ": fork: " + std::strerror(errno));
  if (pid == 0) {
    const int report = report_write.get();
    if (spec.own_process_group) ::setpgid(0, 0);
    if (spec.terminate_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    }
    // Undo what the host changed: the signal mask and dispositions survive exec.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGQUIT, SIGXFSZ})
      ::sigaction(sig, &dfl, nullptr);
    // Two steps, so that a source fd that is also some other mapping's target is not lost:
    // every source first to a fresh number above all targets, then onto its target.
    int moved[64];
    const std::size_t count = fds.size() < 64 ? fds.size() : 64;
    for (std::size_t i = 0; i < count; ++i) {
      moved[i] = ::fcntl(fds[i].second, F_DUPFD_CLOEXEC, 64);
      if (moved[i] < 0) child_fail(report);
    }
    for (std::size_t i = 0; i < count; ++i)
      if (::dup2(moved[i], fds[i].first) < 0) child_fail(report);  // dup2 clears close-on-exec
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) child_fail(report);
    ::execve(exe.c_str(), argv.data(), envp.data());
    child_fail(report);
  }
  report_write.reset();
  ChildProcess child(pid, spec.own_process_group);
  int error = 0;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof error)) {
    child.wait();
    throw std::runtime_error("cannot start " + exe + (cwd.empty() ? "" : " (in " + cwd + ")") +
                             ": " + std::strerror(error));
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      own_group_(other.own_group_),
      status_(std::move(other.status_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = std::exchange(other.pid_, -1);
    own_group_ = other.own_group_;
    status_ = std::move(other.status_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    signal_group(SIGKILL);
    wait();
  }
}

std::optional<ExitStatus> ChildProcess::reap(int options) {
  if (pid_ <= 0) return status_;
  int status = 0;
  rusage usage{};
  pid_t r;
  do {
    r = ::wait4(pid_, &status, options, &usage);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;  // still running
  ExitStatus exit;
  if (r < 0) {
    exit.exit_code = -1;  // ECHILD: reaped elsewhere (SIGCHLD set to SIG_IGN by an embedder)
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  } else {
    exit.exit_code = WEXITSTATUS(status);
  }
  exit.cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  pid_ = -1;
  status_ = exit;
  return exit;
}

std::optional<ExitStatus> ChildProcess::try_wait() {
  return reap(WNOHANG);
}

ExitStatus ChildProcess::wait() {
  auto exit = reap(0);
  return exit ? *exit : ExitStatus{};
}

bool ChildProcess::await_exit(Clock::time_point deadline) {
  if (pid_ <= 0) return true;
  // A pidfd becomes readable when the process exits (reaped or not): one poll, no sleeping loop.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_)
      return true;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    if (pidfd.get() >= 0) {
      pollfd fd{pidfd.get(), POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(std::min<long long>(left + 1, 60'000)));
    } else {  // no pidfds (kernel < 5.3): short sleeps
      ::usleep(static_cast<useconds_t>(std::min<long long>(left, 5) * 1000));
    }
  }
}

std::optional<ExitStatus> ChildProcess::wait_until(Clock::time_point deadline) {
  if (!await_exit(deadline)) return std::nullopt;
  return wait();
}

void ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  signal(SIGTERM);
  if (!await_exit(Clock::now() + grace)) signal_group(SIGKILL);
}

void ChildProcess::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

void ChildProcess::signal_group(int sig) const {
  if (pid_ > 0) ::kill(own_group_ ? -pid_ : pid_, sig);
}

CapturedRun run_captured(ChildSpec spec, std::chrono::milliseconds timeout, bool merge_stderr) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot start " + spec.exe.string() +
                             ": pipe: " + std::strerror(errno));
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  spec.fds[0] = -1;
  spec.fds[1] = write_end.get();
  spec.fds[2] = merge_stderr ? write_end.get() : -1;
  ChildProcess child = ChildProcess::start(spec);
  write_end.reset();  // EOF once the child (and whatever it started) closed its end
  CapturedRun run;
  const auto deadline = ChildProcess::Clock::now() + timeout;
  char buffer[16 * 1024];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ChildProcess::Clock::now())
            .count();
    if (left <= 0) {
      run.timed_out = true;
      break;
    }
    pollfd fd{read_end.get(), POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left + 1)) < 0 && errno != EINTR) break;
    if (fd.revents == 0) continue;
    const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    run.output.append(buffer, static_cast<std::size_t>(n));
  }
  if (run.timed_out) child.signal_group(SIGKILL);
  run.status = child.wait();
  return run;
}

}  // namespace pyhost
