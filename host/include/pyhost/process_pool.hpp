// Processes mode: tasks run in worker processes (`pyhost __worker`), each embedding its own
// interpreter, reused across tasks; a crash, a hard timeout or a memory bomb costs one worker,
// which is replaced, never the host or the other tasks.
#pragma once

#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

// Runs the plan in worker processes. The host itself does not initialise Python.
RunResult run_in_processes(const RunPlan& plan);

// The worker side: speaks the protocol on fds 0 (frames in) and 1 (frames out); task output
// written to fds 1/2 is forwarded as Output frames. Returns the worker's exit code.
int run_worker_process(long memory_limit_mb);

}  // namespace pyhost
