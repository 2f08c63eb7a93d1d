// `--sandbox`: what confines each worker process of processes mode (see docs/sandbox.md). The
// policy is plain data, part of RunPlan; the mechanism lives in host/sandbox/.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pyhost {

// Per sandboxed worker process. 0 means "no limit" for cpu_s; the others have safe defaults.
struct SandboxLimits {
  long cpu_s = 0;           // RLIMIT_CPU: CPU seconds of the worker (SIGXCPU past it)
  long procs = 128;         // RLIMIT_NPROC (and cgroup pids.max): processes + threads
  long file_size_mb = 256;  // RLIMIT_FSIZE: a write past it fails with OSError (EFBIG)
  long open_files = 1024;   // RLIMIT_NOFILE
  long tmp_mb = 256;        // size of the private /tmp (a tmpfs)
};

struct SandboxPolicy {
  bool enabled = false;            // --sandbox
  bool net = false;                // --sandbox-net: the host's network instead of loopback only
  bool reuse_workers = false;      // --sandbox-reuse-workers: not a fresh worker per task
  bool best_effort = false;        // --sandbox-best-effort: go on without missing mechanisms
  std::vector<std::string> read;   // --sandbox-read: more read-only paths
  std::vector<std::string> write;  // --sandbox-write: writable paths (beside the private /tmp)
  SandboxLimits limits;

  // "--sandbox-limit NAME=VALUE": sets one limit; throws std::invalid_argument saying why not.
  void set_limit(std::string_view assignment);
  // The words of `pyhost run` for this policy (empty when not enabled).
  std::vector<std::string> to_argv() const;
};

// The names set_limit takes, for messages and help: "cpu_s, procs, file_size_mb, ...".
std::string sandbox_limit_names();

// --sandbox asked for a mechanism this machine lacks (and not --sandbox-best-effort).
// `pyhost run` exits with status 4.
class SandboxUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pyhost
