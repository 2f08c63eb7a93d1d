// A backend runs the tasks of a plan: every mode in the table (pyhost/modes.hpp) names the backend
// that runs it. pyhost::run() (run/run.cpp) resolves the plan, checks it against what the backend
// can do, owns the embedded runtime and, for `--engine mpi`, the ranks; a backend only runs tasks.
#pragma once

#include <optional>
#include <string>

#include "pyhost/modes.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

class PythonRuntime;
class TaskFeed;

// What a backend can do beyond running tasks 0..K-1 of a plan in this process. pyhost::run()
// refuses, up front and with a clear error, a plan that needs what the backend lacks: a run never
// loses results to a backend that silently ignored part of it.
struct BackendTraits {
  // Its tasks run in an interpreter of this process (then run() is given the runtime).
  bool needs_runtime = false;
  // It takes its task ids from a TaskFeed and gives their results back (the ranks of
  // `--engine mpi`; `--resume`'s tasks not yet ok).
  bool takes_feed = true;
  // It hands the whole plan, `--journal` and `--resume` included, to another pyhost that runs it
  // (the free-threaded companion): the journal is then that pyhost's, not this one's.
  bool hands_on_whole_plan = false;
};

// What a run gives its backend besides the plan: internal plumbing, not part of the public plan.
struct RunContext {
  // Where task ids come from and results go when not 0..K-1 of this process; null: the board
  // counts 0..K-1 itself.
  TaskFeed* feed = nullptr;
  // The embedded runtime, for backends that need one (the calling thread holds its main GIL and
  // still holds it on return); null otherwise.
  PythonRuntime* runtime = nullptr;
};

class ModeBackend {
 public:
  virtual ~ModeBackend() = default;
  virtual BackendTraits traits() const = 0;
  // Why this build or machine cannot run `mode`; nullopt when it can.
  virtual std::optional<std::string> unavailable(const ModeInfo& mode) const;
  // Runs a resolved plan that passed check_plan_for_backend().
  virtual RunResult run(const RunPlan& plan, const ModeInfo& mode, const RunContext& context) = 0;
};

// The backend of each Backend kind (one file each: in_process_backend.cpp,
// processes_backend.cpp, freethreaded_backend.cpp).
ModeBackend& in_process_backend();
ModeBackend& processes_backend();
ModeBackend& freethreaded_backend();
ModeBackend& backend_for(Backend kind);

// Whether the backend of `mode` in this build takes its tasks from a feed (backend_for().traits()).
bool backend_takes_feed(const ModeInfo& mode);

// Throws PlanError when the plan needs what the backend cannot do: `--engine mpi` or `--resume`
// and `--journal` with a backend that takes no feed. CPython-free (plan/backend_check.cpp).
void check_plan_for_backend(const RunPlan& plan, const ModeInfo& mode, const BackendTraits& traits);

}  // namespace pyhost
