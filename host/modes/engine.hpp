// An engine runs the tasks of a plan: every mode in the table (pyhost/modes.hpp) names the
// engine that runs it. pyhost::run() (modes/run.cpp) picks the engine and owns the embedded
// runtime; an engine only runs tasks.
#pragma once

#include <optional>
#include <string>

#include "pyhost/modes.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

class PythonRuntime;

class ModeEngine {
 public:
  virtual ~ModeEngine() = default;
  // Why this build or machine cannot run `mode`; nullopt when it can.
  virtual std::optional<std::string> unavailable(const ModeInfo& mode) const;
  // Whether the tasks run in an interpreter of this process (then run() gets the runtime).
  virtual bool needs_runtime() const = 0;
  // Runs a resolved plan. `runtime` is null for engines that do not need one; otherwise the
  // calling thread holds its main GIL and still holds it on return.
  virtual RunResult run(const RunPlan& plan, const ModeInfo& mode, PythonRuntime* runtime) = 0;
};

// The engine of each Engine kind (one file each: in_process_engine.cpp, processes_engine.cpp,
// freethreaded_engine.cpp).
ModeEngine& in_process_engine();
ModeEngine& processes_engine();
ModeEngine& freethreaded_engine();

}  // namespace pyhost
