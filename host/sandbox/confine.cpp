// The order matters: namespaces (clone) -> uid/gid maps and cgroup (written by the monitor) ->
// the new root -> hostname, loopback -> unprivileged ids, capabilities dropped, no_new_privs ->
// limits -> environment -> Landlock -> seccomp. Each later step could not be taken after the
// next (mounts need capabilities; Landlock and seccomp would refuse the setup's own calls).
#include "sandbox/confine.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "sandbox/confine_steps.hpp"

extern char** environ;

namespace pyhost::sandbox {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "pyhost sandbox: cannot confine the worker: %s\n", why.c_str());
  std::fflush(stderr);
  ::_exit(kExitConfineFailed);
}

bool write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// The monitor writes the child's maps. As root: inner 0 is the host's root, for the setup only
// (it binds paths under root-only directories such as /root), and the child then becomes
// nobody; otherwise the user maps itself, the only mapping it may write.
void write_id_maps(pid_t child, unsigned uid, unsigned gid) {
  const std::string proc = "/proc/" + std::to_string(child);
  std::string uid_map, gid_map;
  if (::geteuid() == 0) {
    uid_map = "0 0 1\n" + std::to_string(uid) + " " + std::to_string(uid) + " 1\n";
    gid_map = "0 0 1\n" + std::to_string(gid) + " " + std::to_string(gid) + " 1\n";
  } else {
    uid_map = std::to_string(uid) + " " + std::to_string(uid) + " 1\n";
    gid_map = std::to_string(gid) + " " + std::to_string(gid) + " 1\n";
    if (!write_file(proc + "/setgroups", "deny"))
      die("write setgroups: " + std::string(strerror(errno)));
  }
  if (!write_file(proc + "/uid_map", uid_map))
    die("write uid_map: " + std::string(strerror(errno)));
  if (!write_file(proc + "/gid_map", gid_map))
    die("write gid_map: " + std::string(strerror(errno)));
}

// A cgroup of its own, when the machine delegates one: memory.max and pids.max.
std::string join_cgroup(const WorkerSpec& spec, pid_t child) {
  if (spec.cgroup_dir.empty()) return {};
  const std::string dir = spec.cgroup_dir + "/pyhost-sandbox-" + std::to_string(child);
  if (::mkdir(dir.c_str(), 0755) != 0) die("mkdir " + dir + ": " + strerror(errno));
  bool ok = write_file(dir + "/pids.max", std::to_string(spec.policy.limits.procs));
  if (spec.memory_limit_mb > 0)
    ok = ok && write_file(dir + "/memory.max", std::to_string(spec.memory_limit_mb << 20));
  ok = ok && write_file(dir + "/cgroup.procs", std::to_string(child));
  if (!ok) {
    const std::string why = strerror(errno);
    ::rmdir(dir.c_str());
    die("cgroup " + dir + ": " + why);
  }
  return dir;
}

volatile sig_atomic_t g_child = 0;

void forward(int signo) {
  if (g_child > 0) ::kill(g_child, signo);
}

// The monitor: passes signals on, waits, cleans up, then ends the way the child ended.
[[noreturn]] void monitor(pid_t child, const std::string& cgroup, const std::string& private_dir) {
  g_child = child;
  struct sigaction action {};
  action.sa_handler = forward;
  sigemptyset(&action.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
    ::sigaction(signo, &action, nullptr);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!cgroup.empty())
    for (int tries = 0; tries < 100 && ::rmdir(cgroup.c_str()) != 0 && errno == EBUSY; ++tries)
      ::usleep(10'000);
  if (!private_dir.empty()) {
    std::error_code ec;
    fs::remove_all(private_dir, ec);
  }
  if (WIFSIGNALED(status)) {
    const int signo = WTERMSIG(status);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(signo, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::kill(::getpid(), signo);
    ::_exit(128 + signo);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

void set_limit(int resource, rlim_t value, const char* name) {
  rlimit limit{value, value};
  if (::setrlimit(resource, &limit) != 0)
    die(std::string("setrlimit ") + name + ": " + strerror(errno));
}

// Unprivileged for good: no capabilities (not even in the bounding set), no way to gain any.
void drop_privileges(unsigned uid, unsigned gid) {
  for (int cap = 0; cap <= 63; ++cap)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) break;
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::geteuid() == 0 && ::setgroups(0, nullptr) != 0)
    die(std::string("setgroups: ") + strerror(errno));
  if (::setresgid(gid, gid, gid) != 0) die(std::string("setresgid: ") + strerror(errno));
  if (::setresuid(uid, uid, uid) != 0) die(std::string("setresuid: ") + strerror(errno));
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &header, data) != 0) die(std::string("capset: ") + strerror(errno));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    die(std::string("no_new_privs: ") + strerror(errno));
  // Changing ids made the process undumpable, which hides its own /proc/self from it.
  ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

void apply_limits(const SandboxLimits& limits) {
  // SIGXCPU cannot end the worker (the init of its PID namespace ignores signals it has no
  // handler for, the kernel's too): the hard limit, SIGKILL, does, at the same second.
  if (limits.cpu_s > 0) set_limit(RLIMIT_CPU, static_cast<rlim_t>(limits.cpu_s), "cpu");
  set_limit(RLIMIT_NPROC, static_cast<rlim_t>(limits.procs), "nproc");
  set_limit(RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_size_mb) << 20, "fsize");
  set_limit(RLIMIT_NOFILE, static_cast<rlim_t>(limits.open_files), "nofile");
  set_limit(RLIMIT_CORE, 0, "core");
  // A write past RLIMIT_FSIZE must be an OSError (EFBIG) in the task, not a kill.
  ::signal(SIGXFSZ, SIG_IGN);
}

// Only an allow-list of the host's environment goes in: never its secrets.
void reset_environment(const std::string& home) {
  static const char* const kKept[] = {"PATH",
                                      "LANG",
                                      "LANGUAGE",
                                      "LC_ALL",
                                      "LC_CTYPE",
                                      "LC_MESSAGES",
                                      "LC_NUMERIC",
                                      "TZ",
                                      "TERM",
                                      "NO_COLOR",
                                      "VIRTUAL_ENV",
                                      "PYHOST_RUNTIME_DIR",
                                      "PYHOST_LOG",
                                      "PYHOST_GIL_SAMPLER",
                                      "PYTHONPATH",
                                      "PYTHONHASHSEED",
                                      "PYTHONIOENCODING",
                                      "PYTHONUTF8",
                                      "PYTHONWARNINGS",
                                      "PYTHONDONTWRITEBYTECODE",
                                      "PYTHONUNBUFFERED",
                                      "PYTHONFAULTHANDLER",
                                      "PYTHONDEVMODE",
                                      "PYTHONMALLOC",
                                      "PYTHONSAFEPATH",
                                      "PYTHONOPTIMIZE"};
  std::vector<std::pair<std::string, std::string>> kept;
  for (const char* name : kKept)
    if (const char* value = std::getenv(name)) kept.emplace_back(name, value);
  ::clearenv();
  for (const auto& [name, value] : kept) ::setenv(name.c_str(), value.c_str(), 1);
  if (!std::getenv("PATH")) ::setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
  ::setenv("HOME", home.c_str(), 1);
  ::setenv("TMPDIR", home.c_str(), 1);
  ::setenv("PYHOST_SANDBOX", "1", 1);
}

// The rest of the confinement, in the child, once the monitor has written its id maps.
void confine_child(const WorkerSpec& spec, const std::vector<Exposed>& exposed,
                   const std::string& private_dir) {
  std::string why;
  const unsigned uid = host_uid(), gid = host_gid();
  if (spec.namespaces) {
    if (!build_root(spec, exposed, uid, gid, why)) die(why);
    ::sethostname("pyhost-sandbox", 14);
    if (!spec.policy.net && !bring_up_loopback(why)) die(why);
  }
  std::error_code ec;
  if (::chdir(spec.cwd.c_str()) != 0 && ::chdir(private_dir.c_str()) != 0)
    die("chdir " + private_dir + ": " + strerror(errno));
  drop_privileges(uid, gid);
  apply_limits(spec.policy.limits);
  reset_environment(private_dir);
  if (spec.landlock &&
      !restrict_with_landlock(exposed, spec.policy.net, spec.namespaces, private_dir, why))
    die(why);
  if (spec.seccomp && !install_seccomp_filter(why)) die(why);
}

}  // namespace

void enter(const WorkerSpec& spec) {
  const std::vector<Exposed> exposed = exposed_paths(spec);
  // Without namespaces (best effort) the private directory is one on the host's /tmp.
  std::string private_dir = "/tmp";
  if (!spec.namespaces) {
    char templ[] = "/tmp/pyhost-sandbox-XXXXXX";
    if (!::mkdtemp(templ)) throw std::runtime_error(std::string("mkdtemp: ") + strerror(errno));
    private_dir = templ;
    if (::geteuid() == 0 && ::chown(templ, host_uid(), host_gid()) != 0)
      throw std::runtime_error(std::string("chown ") + templ + ": " + strerror(errno));
  }
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  long flags = SIGCHLD;
  if (spec.namespaces) {
    flags |= CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (!spec.policy.net) flags |= CLONE_NEWNET;
  }
  const long child = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
  if (child < 0) throw std::runtime_error(std::string("clone: ") + strerror(errno));
  if (child == 0) {
    ::close(go[1]);
    // The host kills the monitor (SIGKILL at a hard timeout): this process, the init of its PID
    // namespace, goes with it, and the kernel ends everything else inside.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char ready = 0;
    if (::read(go[0], &ready, 1) != 1) ::_exit(kExitConfineFailed);  // the monitor is gone
    ::close(go[0]);
    confine_child(spec, exposed, private_dir);
    return;
  }
  ::close(go[0]);
  if (spec.namespaces) write_id_maps(static_cast<pid_t>(child), host_uid(), host_gid());
  const std::string cgroup = join_cgroup(spec, static_cast<pid_t>(child));
  if (::write(go[1], "g", 1) != 1) die(std::string("start the sandbox: ") + strerror(errno));
  ::close(go[1]);
  monitor(static_cast<pid_t>(child), cgroup, spec.namespaces ? std::string() : private_dir);
}

}  // namespace pyhost::sandbox
