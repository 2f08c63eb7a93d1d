#include <memory>
#include <mutex>
#include <vector>

#include "embed/host_module.hpp"
#include "modes/worker_pool.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/run.hpp"

namespace pyhost {
namespace {

// A thread a task left behind may still be inside OutputMux::write when the run ends, so muxes
// are kept until the process exits rather than freed under it.
OutputMux& retain_mux(OutputMux::Options options) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<OutputMux>> muxes;
  std::lock_guard lock(mutex);
  muxes.push_back(std::make_unique<OutputMux>(options));
  return *muxes.back();
}

}  // namespace

std::optional<Mode> parse_mode(std::string_view name) {
  if (name == "serial") return Mode::Serial;
  if (name == "threads") return Mode::Threads;
  if (name == "subinterpreters") return Mode::Subinterpreters;
  if (name == "processes") return Mode::Processes;
  return std::nullopt;
}

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::Serial: return "serial";
    case Mode::Threads: return "threads";
    case Mode::Subinterpreters: return "subinterpreters";
    case Mode::Processes: return "processes";
  }
  return "serial";
}

std::string_view to_string(TaskTarget::Kind kind) {
  switch (kind) {
    case TaskTarget::Kind::Script: return "script";
    case TaskTarget::Kind::Module: return "module";
    case TaskTarget::Kind::Code: return "code";
  }
  return "script";
}

RunResult run_in_process(PythonRuntime& runtime, const RunPlan& plan) {
  OutputMux::Options options;
  options.style = plan.is_plain_python() ? OutputStyle::Passthrough : plan.output;
  options.tag = plan.tasks > 1;
  OutputMux& mux = retain_mux(options);
  set_output_sink(&mux);
  struct SinkReset {
    ~SinkReset() { set_output_sink(nullptr); }
  } sink_reset;

  if (plan.mode == Mode::Subinterpreters && !SubInterpreter::has_own_gil()) {
    mux.host_message("pyhost: CPython " + runtime.info().version +
                     " has no per-interpreter GIL (PEP 684 needs 3.12+): sub-interpreters share "
                     "one GIL and will not run in parallel.");
  }

  TaskBoard board(plan, mux);
  RunResult result;
  switch (plan.mode) {
    case Mode::Serial: result = run_serial(runtime, board); break;
    case Mode::Threads: result = run_threads(runtime, board); break;
    case Mode::Subinterpreters: result = run_subinterpreters(runtime, board); break;
    case Mode::Processes: throw std::logic_error("processes mode does not run in process");
  }
  result.python = runtime.info().version;
  result.peak_rss_kb = peak_rss_kb_self();
  return result;
}

}  // namespace pyhost
