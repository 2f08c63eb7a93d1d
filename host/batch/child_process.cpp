#include "batch/child_process.hpp"

#include "util/boost_process.hpp"
#include "util/launcher_env.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace pyhost::batch {

namespace bp = bpv1;

namespace {

UniqueFd open_or_throw(const std::filesystem::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (fd.get() < 0)
    throw std::runtime_error(
        fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  return fd;
}

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}

}  // namespace

ChildProcess ChildProcess::launch(const LaunchSpec& spec) {
  // Everything the forked child touches is prepared here: after fork() it may only make
  // async-signal-safe calls.
  UniqueFd out = open_or_throw(spec.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
  UniqueFd err = open_or_throw(spec.stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
  UniqueFd in = open_or_throw("/dev/null", O_RDONLY);
  const std::string cwd = spec.cwd.string();
  const pid_t parent = ::getpid();

  bp::environment env = boost::this_process::environment();
  // Under mpirun/srun a job is no rank: had it the launcher's variables, a `pyhost run --engine
  // mpi` or mpi4py in it would call MPI_Init as this rank and break the MPI job.
  if (has_launcher_variables()) {
    std::vector<std::string> hidden;
    for (const auto& entry : env)
      if (is_launcher_variable(entry.get_name())) hidden.push_back(entry.get_name());
    for (const auto& name : hidden) env.erase(name);
  }
  for (const auto& [key, value] : spec.env) env[key] = value;

  auto setup = [&](auto& exec) {
    auto fail = [&](const char* what) {
      exec.set_error(std::error_code(errno, std::system_category()), what);
      ::_exit(127);
    };
    ::setpgid(0, 0);  // own group: timeouts and Ctrl-C stop the job's whole process tree
    // If pyhost dies (even SIGKILL), its jobs stop instead of running on unrecorded.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    // Undo what pyhost may have changed: both survive exec.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGQUIT})
      ::sigaction(sig, &dfl, nullptr);
    if (::chdir(cwd.c_str()) != 0) fail("cannot change to the job's cwd");
    if (::dup2(in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err.get(), 2) < 0)
      fail("dup2");
  };
  pid_t failed_pid = -1;
  auto on_error = [&](auto& exec, const std::error_code&) { failed_pid = exec.pid; };

  std::error_code ec;
  bp::child child(bp::exe = spec.exe.string(), bp::args = spec.args, env,
                  bp::extend::on_exec_setup = setup, bp::extend::on_error = on_error, ec);
  if (ec) {
    if (failed_pid > 0) ::waitpid(failed_pid, nullptr, 0);  // Boost leaves it a zombie
    throw std::runtime_error(
        fmt::format("cannot start {} (in {}): {}", spec.exe.string(), cwd, ec.message()));
  }
  // From here on the pid is ours to reap (with wait4, for the child's own rusage).
  child.detach();
  return ChildProcess(child.id());
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = std::exchange(other.pid_, -1);
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
  if (pid_ <= 0) return std::nullopt;
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
  return exit;
}

std::optional<ExitStatus> ChildProcess::try_wait() {
  return reap(WNOHANG);
}

ExitStatus ChildProcess::wait() {
  auto exit = reap(0);
  return exit ? *exit : ExitStatus{};
}

void ChildProcess::signal_group(int sig) const {
  if (pid_ > 0) ::kill(-pid_, sig);
}

}  // namespace pyhost::batch
