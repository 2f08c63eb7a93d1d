// pyhost::run: from a plan to its results, whatever the mode.
#include <memory>
#include <thread>

#include "modes/engine.hpp"
#include "pyhost/interpreter.hpp"

namespace pyhost {
namespace {

ModeEngine& engine_for(Engine kind) {
  switch (kind) {
    case Engine::InProcess:
      return in_process_engine();
    case Engine::WorkerProcesses:
      return processes_engine();
    case Engine::FreeThreaded:
      return freethreaded_engine();
  }
  return in_process_engine();
}

}  // namespace

std::optional<std::string> ModeEngine::unavailable(const ModeInfo&) const {
  return std::nullopt;
}

std::optional<std::string> mode_unavailable(const ModeInfo& mode) {
  return engine_for(mode.engine).unavailable(mode);
}

RunResult run(const RunPlan& requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const RunPlan plan = requested.resolved(cores);
  const ModeInfo& mode = plan.mode_info();
  ModeEngine& engine = engine_for(mode.engine);
  if (auto why = engine.unavailable(mode))
    throw ModeUnavailable("mode '" + std::string(mode.name) + "' is not available: " + *why);
  if (!engine.needs_runtime()) return engine.run(plan, mode, nullptr);
  if (PythonRuntime* active = PythonRuntime::active()) return engine.run(plan, mode, active);

  auto runtime = std::make_unique<PythonRuntime>();
  RunResult result = engine.run(plan, mode, runtime.get());
  if (result.abandoned_workers == 0) {
    result.flush_failed = runtime->finalize() < 0;
  } else {
    // A worker stuck in C code past its timeout cannot be joined, and Python cannot be
    // finalised under it: leave the runtime to the process's exit.
    (void)runtime.release();
  }
  return result;
}

}  // namespace pyhost
