#include <memory>
#include <mutex>
#include <vector>

#include "embed/host_module.hpp"
#include "modes/worker_pool.hpp"
#include "pyhost/host_signals.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/run.hpp"
#include "pyhost/thread_state.hpp"

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

// Likewise for boards: an abandoned worker reports to its board whenever it comes back.
TaskBoard& retain_board(const RunPlan& plan, OutputMux& mux) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<TaskBoard>> boards;
  std::lock_guard lock(mutex);
  boards.push_back(std::make_unique<TaskBoard>(plan, mux));
  return *boards.back();
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
    case Mode::Serial:
      return "serial";
    case Mode::Threads:
      return "threads";
    case Mode::Subinterpreters:
      return "subinterpreters";
    case Mode::Processes:
      return "processes";
  }
  return "serial";
}

std::string_view to_string(TaskTarget::Kind kind) {
  switch (kind) {
    case TaskTarget::Kind::Script:
      return "script";
    case TaskTarget::Kind::Module:
      return "module";
    case TaskTarget::Kind::Code:
      return "code";
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

  TaskBoard& board = retain_board(plan, mux);
  RunResult result;
  if (plan.is_plain_python() && plan.timeout_s <= 0) {
    result = run_plain_serial(board);  // python's own signal handling, on this thread
  } else {
    HostSignals signals;
    GilRelease main_thread_supervises;
    int signal = 0;
    result = run_supervised_in_process(runtime, board, signal);
    result.stopped_by_signal = signal;
  }
  result.python = runtime.info().version;
  result.peak_rss_kb = peak_rss_kb_self();
  return result;
}

}  // namespace pyhost
