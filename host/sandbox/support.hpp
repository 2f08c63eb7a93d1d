// Which confinement mechanisms this machine offers, for `pyhost info` and the start of a
// --sandbox run (which refuses to run without one, unless --sandbox-best-effort).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "pyhost/sandbox.hpp"

namespace pyhost::sandbox {

struct Support {
  // Each: empty when available, else why not (one line).
  std::string user_namespaces;  // user + mount, PID, IPC, UTS, network namespaces
  std::string landlock;
  std::string seccomp;
  std::string cgroup;  // a writable cgroup v2 tree with memory and pids (optional)
  int landlock_abi = 0;
  std::string cgroup_dir;  // where sandboxes make their cgroups, when usable

  // The required mechanisms that are missing, as "name: why" lines.
  std::vector<std::string> missing() const;
};

// Probes the kernel (a short-lived child process tries the namespaces). Cached after the first
// call.
const Support& support();

// Throws SandboxUnavailable naming what is missing, unless policy.best_effort: then it warns on
// stderr once, naming each mechanism the run goes without.
void require(const SandboxPolicy& policy);

// The paths of `checks` (path, access(2) mode) that uid/gid cannot reach, each directory on the
// way included: a short-lived child takes those ids (pyhost must be root) and tries each.
std::vector<std::string> unreachable_as(unsigned uid, unsigned gid,
                                        const std::vector<std::pair<std::string, int>>& checks);

}  // namespace pyhost::sandbox
