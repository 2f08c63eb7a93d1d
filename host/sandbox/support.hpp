// Which confinement mechanisms this machine offers, for `pyhost info` and the start of a
// --sandbox run (which refuses to run without one, unless --sandbox-best-effort).
#pragma once

#include <string>
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

}  // namespace pyhost::sandbox
