// The backend of the modes that run tasks on threads of this process, each worker in the main
// interpreter or in a sub-interpreter of its own (serial, threads, subinterpreters).
#include <fmt/format.h>
#include <signal.h>

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "embed/gil_sampler.hpp"
#include "embed/host_module.hpp"
#include "embed/task_watch.hpp"
#include "backends/backend.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/python_error.hpp"
#include "pyhost/thread_state.hpp"
#include "worker/task_runner.hpp"
#include "schedule/supervisor.hpp"
#include "util/host_signals.hpp"

namespace pyhost {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Takes tasks off the board until none are left, in the interpreter whose GIL this thread holds.
void work_through(TaskBoard& board, const InterpreterRole& role, int worker,
                  std::chrono::steady_clock::time_point worker_start) {
  std::optional<TaskRunner> runner;
  try {
    runner.emplace(board.plan(), role);
  } catch (const std::exception& error) {
    board.worker_failed(worker, error.what());
    return;
  }
  board.worker_ready(worker, seconds_since(worker_start));
  for (int task = board.next(worker); task >= 0; task = board.next(worker)) {
    board.started(task, worker);
    TaskResult result = runner->run(task, worker, board.start(), board.mux());
    const bool tainted = result.worker_tainted;
    board.complete(std::move(result));
    if (tainted) board.abandon_worker(worker);
    if (board.abandoned(worker)) break;  // stuck or tainted: take nothing more
  }
}

// The worker threads of a supervised run; more are launched to replace abandoned ones.
class WorkerThreads {
 public:
  WorkerThreads(PythonRuntime& runtime, TaskBoard& board, const ModeInfo& mode,
                std::shared_ptr<GilSampler> sampler)
      : runtime_(runtime),
        board_(board),
        mode_(mode),
        role_(role_for(board.plan(), mode)),
        sampler_(std::move(sampler)) {}

  void launch() {
    const int worker = board_.new_worker_id();
    std::lock_guard lock(mutex_);
    threads_.emplace_back(worker, std::thread([this, worker] { body(worker); }));
  }

  // Joins the workers that finished; the abandoned ones are stuck and are left behind.
  void join_or_detach() {
    std::lock_guard lock(mutex_);
    for (auto& [worker, thread] : threads_) {
      if (board_.abandoned(worker))
        thread.detach();
      else
        thread.join();
    }
    threads_.clear();
  }

 private:
  void body(int worker) {
    // SIGINT/SIGTERM stay unblocked here: processes a task starts inherit this thread's mask and
    // must take them. The host's handler only records a signal, on whatever thread.
    const auto worker_start = std::chrono::steady_clock::now();
    try {
      if (mode_.interpreter == WorkerInterpreter::OwnSubinterpreter) {
        auto interpreter = std::make_unique<SubInterpreter>(runtime_);
        {
          GilHold gil(interpreter->thread_state());
          auto sampled = GilSampler::enroll(sampler_, worker, interpreter->thread_state());
          work_through(board_, role_, worker, worker_start);
        }
        // Ending it would wait for the threads a task left running: leave it to process exit.
        if (board_.abandoned(worker)) (void)interpreter.release();
      } else {
        ThreadState tstate(runtime_.main_interpreter());
        GilHold gil(tstate.get());
        auto sampled = GilSampler::enroll(sampler_, worker, tstate.get());
        work_through(board_, role_, worker, worker_start);
      }
    } catch (const std::exception& error) {
      board_.worker_failed(worker, error.what());
    }
    board_.worker_exited(worker);
  }

  PythonRuntime& runtime_;
  TaskBoard& board_;
  const ModeInfo& mode_;
  const InterpreterRole role_;
  std::shared_ptr<GilSampler> sampler_;  // null: not sampled
  std::mutex mutex_;
  std::vector<std::pair<int, std::thread>> threads_;
};

// One task as plain python on the calling (main) thread, which holds the GIL.
RunResult run_plain_serial(TaskBoard& board, const ModeInfo& mode) {
  const int worker = board.new_worker_id();
  work_through(board, role_for(board.plan(), mode), worker, board.start());
  board.worker_exited(worker);
  return board.finish();
}

// The plan's tasks on worker threads under supervision. Called with the main GIL released.
RunResult run_supervised(PythonRuntime& runtime, TaskBoard& board, const ModeInfo& mode,
                         int& signal) {
  const RunPlan& plan = board.plan();
  // Static: a thread left stuck in C code may still reach it after this function returns.
  static std::mutex pools_mutex;
  static std::vector<std::unique_ptr<WorkerThreads>> pools;
  WorkerThreads* workers;
  auto gil_sampler = GilSampler::start(board.start());  // GIL sampler: the workers enroll
  {
    std::lock_guard lock(pools_mutex);
    pools.push_back(std::make_unique<WorkerThreads>(runtime, board, mode, gil_sampler));
    workers = pools.back().get();
  }
  const int count = mode.single_worker ? 1 : std::max(1, std::min(plan.workers, plan.tasks));
  for (int i = 0; i < count; ++i) workers->launch();

  SupervisorHooks hooks;
  hooks.on_signal = [](int received) {
    stop_all_tasks(received == SIGINT ? StopReason::Interrupt : StopReason::Terminate);
  };
  // Lost workers (stuck, tainted) are replaced while tasks remain.
  hooks.on_tick = [&board, workers, count] {
    if (board.has_pending() && board.healthy_workers() < count) workers->launch();
  };
  hooks.on_overdue = [&](const TaskBoard::Running& entry) {
    board.settle_from_outside(
        entry.task, TaskStatus::Timeout, 1,
        fmt::format("still running {:g} s after its {:g} s timeout (stuck outside Python code?); "
                    "its worker was abandoned. --mode processes can kill such tasks",
                    plan.kill_after_s, plan.timeout_s));
  };
  hooks.on_stuck = [&](const TaskBoard::Running& entry) {
    board.settle_from_outside(entry.task, TaskStatus::Failed, 1,
                              "interrupted, and still running after the grace period: abandoned");
  };
  signal = supervise(board, hooks);
  workers->join_or_detach();
  reset_task_stops();
  RunResult result = board.finish();
  if (gil_sampler) gil_sampler->stop_into(result);  // GIL sampler: per-task split, segments
  return result;
}

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
TaskBoard& retain_board(const RunPlan& plan, OutputMux& mux, TaskFeed* feed) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<TaskBoard>> boards;
  std::lock_guard lock(mutex);
  boards.push_back(std::make_unique<TaskBoard>(plan, mux, feed));
  return *boards.back();
}

class InProcessBackend final : public ModeBackend {
 public:
  BackendTraits traits() const override { return {.needs_runtime = true, .takes_feed = true}; }

  RunResult run(const RunPlan& plan, const ModeInfo& mode, const RunContext& context) override {
    PythonRuntime* runtime = context.runtime;
    OutputMux::Options options;
    options.style = plan.effective_output();
    options.tag = plan.tasks > 1;
    options.out_fd = plan.echo_fd(1);
    options.err_fd = plan.echo_fd(2);
    OutputMux& mux = retain_mux(options);
    set_output_sink(&mux);
    struct SinkReset {
      ~SinkReset() { set_output_sink(nullptr); }
    } sink_reset;

    if (mode.interpreter == WorkerInterpreter::OwnSubinterpreter && !SubInterpreter::has_own_gil())
      mux.host_message("pyhost: CPython " + runtime->info().version +
                       " has no per-interpreter GIL (PEP 684 needs 3.12+): sub-interpreters "
                       "share one GIL and will not run in parallel.");

    TaskBoard& board = retain_board(plan, mux, context.feed);
    RunResult result;
    if (plan.is_plain_python() && plan.timeout_s <= 0) {
      result = run_plain_serial(board, mode);  // python's own signal handling, on this thread
    } else {
      HostSignals signals;
      GilRelease main_thread_supervises;
      int signal = 0;
      result = run_supervised(*runtime, board, mode, signal);
      result.stopped_by_signal = signal;
    }
    result.python = runtime->info().version;
    result.peak_rss_kb = peak_rss_kb_self();
    return result;
  }
};

}  // namespace

ModeBackend& in_process_backend() {
  static InProcessBackend backend;
  return backend;
}

}  // namespace pyhost
