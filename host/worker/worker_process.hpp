// The worker side of processes mode (`pyhost __worker`): speaks the protocol on fds 3 (frames
// in) and 4 (frames out) and runs each task it is sent in its own embedded interpreter; task
// output goes to its stdout/stderr, which the host reads. Returns the worker's exit code.
#pragma once

#include <string>
#include <vector>

namespace pyhost {

// What a sandboxed worker reads besides the policy's paths: the interpreter's prefix, the venv,
// pyhost's runtime and its own executable (for the pyhost.Executor workers a task starts).
std::vector<std::string> worker_sandbox_reads();

// `sandbox_spec`: empty, or the JSON of a sandbox::WorkerSpec (--sandbox): the process confines
// itself before Python starts.
// Confines this process (sandbox/confine.hpp: it returns in the confined half only), showing it
// what an embedded CPython needs besides the spec's paths. Throws std::runtime_error.
void enter_sandbox(const std::string& spec_json);

int run_worker_process(long memory_limit_mb, const std::string& sandbox_spec = {});

}  // namespace pyhost
