#include "sandbox/support.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "sandbox/landlock_abi.hpp"
#include "util/write_all.hpp"

namespace pyhost::sandbox {
namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

// A child tries to make every namespace a sandbox needs; its exit status is the errno.
std::string probe_user_namespaces() {
  const pid_t child = ::fork();
  if (child < 0) return "fork failed: " + errno_text(errno);
  if (child == 0) {
    const int flags =
        CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
    ::_exit(::unshare(flags) == 0 ? 0 : (errno & 0xff));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const int error = WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
  std::string why =
      "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|...) failed: " + errno_text(error);
  std::ifstream max("/proc/sys/user/max_user_namespaces");
  if (long n = -1; max >> n && n == 0) why += " (/proc/sys/user/max_user_namespaces is 0)";
  std::ifstream apparmor("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (int on = 0; apparmor >> on && on == 1 && ::geteuid() != 0)
    why += " (kernel.apparmor_restrict_unprivileged_userns = 1)";
  return why;
}

std::string probe_landlock(int& abi) {
  abi = static_cast<int>(
      ::syscall(kSysLandlockCreateRuleset, nullptr, 0, kLandlockCreateRulesetVersion));
  if (abi >= 1) return {};
  abi = 0;
  if (errno == ENOSYS)
    return "the kernel has no Landlock (Linux >= 5.13 with CONFIG_SECURITY_LANDLOCK)";
  if (errno == EOPNOTSUPP)
    return "Landlock is built in but not enabled (boot with lsm=...,landlock)";
  return "landlock_create_ruleset failed: " + errno_text(errno);
}

std::string probe_seccomp() {
  std::uint32_t action = SECCOMP_RET_ERRNO;
  if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0) return {};
  if (errno == ENOSYS || errno == EINVAL)
    return "the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)";
  return "seccomp(SECCOMP_GET_ACTION_AVAIL) failed: " + errno_text(errno);
}

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool has_word(const std::string& words, const std::string& word) {
  std::istringstream in(words);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

// A cgroup v2 tree with memory and pids that this process may make children in.
std::string probe_cgroup(std::string& dir) {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string mount_point;
  for (std::string line; std::getline(mounts, line);) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line);
    std::string id, parent, devno, root;
    fields >> id >> parent >> devno >> root >> mount_point;
    break;
  }
  if (mount_point.empty()) return "no cgroup v2 file system is mounted";
  std::string own;
  std::ifstream cgroups("/proc/self/cgroup");
  for (std::string line; std::getline(cgroups, line);)
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  const std::string candidate = mount_point + (own == "/" ? "" : own);
  const std::string controllers = read_line(candidate + "/cgroup.controllers");
  if (!has_word(controllers, "memory") || !has_word(controllers, "pids"))
    return fmt::format(
        "the cgroup v2 tree at {} offers no memory and pids controllers "
        "(controllers: '{}'; they may be on cgroup v1 here)",
        candidate, controllers);
  const std::string enabled = read_line(candidate + "/cgroup.subtree_control");
  if (!has_word(enabled, "memory") || !has_word(enabled, "pids"))
    return fmt::format("memory and pids are not enabled for children in {}/cgroup.subtree_control",
                       candidate);
  if (::access(candidate.c_str(), W_OK) != 0)
    return fmt::format("{} is not writable (no delegated cgroup tree)", candidate);
  dir = candidate;
  return {};
}

}  // namespace

std::vector<std::string> Support::missing() const {
  std::vector<std::string> out;
  if (!user_namespaces.empty()) out.push_back("user namespaces: " + user_namespaces);
  if (!landlock.empty()) out.push_back("Landlock: " + landlock);
  if (!seccomp.empty()) out.push_back("seccomp: " + seccomp);
  return out;
}

const Support& support() {
  static Support found;
  static std::once_flag once;
  std::call_once(once, [] {
    found.user_namespaces = probe_user_namespaces();
    found.landlock = probe_landlock(found.landlock_abi);
    found.seccomp = probe_seccomp();
    found.cgroup = probe_cgroup(found.cgroup_dir);
  });
  return found;
}

std::vector<std::string> unreachable_as(unsigned uid, unsigned gid,
                                        const std::vector<std::pair<std::string, int>>& checks) {
  // One byte a path (1: unreachable) through a pipe; the child only makes system calls (it is
  // a fork of a process that may have threads).
  int answers[2];
  if (::pipe2(answers, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text(errno));
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork: " + errno_text(errno));
  if (child == 0) {
    ::close(answers[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
      ::_exit(1);
    for (const auto& [path, mode] : checks) {
      const char unreachable = ::access(path.c_str(), mode) != 0 ? 1 : 0;
      if (write_all(answers[1], std::string_view(&unreachable, 1)) != 0) ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(answers[1]);
  std::vector<std::string> unreachable;
  std::size_t i = 0;
  for (char answer = 0; i < checks.size() && ::read(answers[0], &answer, 1) == 1; ++i)
    if (answer) unreachable.push_back(checks[i].first);
  ::close(answers[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (i < checks.size())
    throw std::runtime_error(fmt::format("could not try the paths as uid {}", uid));
  return unreachable;
}

void require(const SandboxPolicy& policy) {
  if (!policy.enabled) return;
  const auto missing = support().missing();
  if (missing.empty()) return;
  std::string lines;
  for (const auto& line : missing) lines += "\n  " + line;
  if (!policy.best_effort)
    throw SandboxUnavailable(
        "--sandbox needs mechanisms this machine lacks:" + lines +
        "\n(--sandbox-best-effort runs without them, saying so; see docs/sandbox.md)");
  static std::once_flag warned;
  std::call_once(warned, [&] {
    fmt::print(stderr, "pyhost: warning: --sandbox-best-effort: running WITHOUT:{}\n", lines);
  });
}

}  // namespace pyhost::sandbox
