// The worker side of processes mode (`pyhost __worker`): speaks the protocol on fds 3 (frames
// in) and 4 (frames out) and runs each task it is sent in its own embedded interpreter; task
// output goes to its stdout/stderr, which the host reads. Returns the worker's exit code.
#pragma once

namespace pyhost {

int run_worker_process(long memory_limit_mb);

}  // namespace pyhost
