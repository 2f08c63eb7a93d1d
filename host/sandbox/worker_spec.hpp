// What the host tells a sandboxed worker process (`pyhost __worker --sandbox=JSON`): the policy
// with its paths resolved, and which mechanisms to use (all of them, unless best effort left
// out what this machine lacks).
#pragma once

#include <string>
#include <vector>

#include "pyhost/run.hpp"
#include "pyhost/sandbox.hpp"

namespace pyhost::sandbox {

struct WorkerSpec {
  SandboxPolicy policy;  // read/write: absolute paths without symlinks
  std::string cwd;       // the host's working directory
  bool namespaces = true, landlock = true, seccomp = true;
  std::string cgroup_dir;    // empty: no cgroup limits
  long memory_limit_mb = 0;  // also memory.max of the cgroup, when there is one
};

// The spec of `plan`'s workers: the script's directory joins the read paths. Throws PlanError for
// a path that does not exist or, as root, one the sandbox's unprivileged uid cannot use.
WorkerSpec worker_spec(const RunPlan& plan);
// Without namespaces (best effort) a worker sees the host's own file system, as nobody when pyhost
// is root: every path it needs (the spec's and `reads`, the worker's own) must be reachable by
// that uid, each directory on the way included. A child that takes the uid tries them; throws
// SandboxUnavailable naming those it cannot reach. Nothing to check with namespaces or as non-root.
void require_reachable(const WorkerSpec& spec, const std::vector<std::string>& reads);

std::string encode(const WorkerSpec& spec);
WorkerSpec decode(const std::string& json);  // throws std::runtime_error

// The uid/gid a sandboxed worker runs as on the host: nobody (65534) when pyhost is root, else
// pyhost's own.
unsigned host_uid();
unsigned host_gid();

}  // namespace pyhost::sandbox
