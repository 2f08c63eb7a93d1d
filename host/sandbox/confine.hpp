// Confining a worker process before it runs any user code (`pyhost __worker --sandbox=SPEC`).
#pragma once

#include "sandbox/worker_spec.hpp"

namespace pyhost::sandbox {

// Exit status of a worker whose confinement failed (it says why on stderr first).
inline constexpr int kExitConfineFailed = 71;

// Splits the process in two: a monitor, which stays outside, forwards the signals it gets to the
// other and ends as it ends (same exit status or signal), and never returns; and the confined
// process, in which enter() returns. Call it single-threaded, before Python starts.
// Throws std::runtime_error when the split itself fails.
void enter(const WorkerSpec& spec);

}  // namespace pyhost::sandbox
