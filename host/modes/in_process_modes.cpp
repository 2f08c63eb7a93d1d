// serial, threads and subinterpreters: the modes that run tasks inside this process.
#include <fmt/format.h>
#include <signal.h>

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "embed/gil_sampler.hpp"
#include "embed/task_watch.hpp"
#include "modes/worker_pool.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/python_error.hpp"
#include "pyhost/thread_state.hpp"
#include "run/task_runner.hpp"

namespace pyhost {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Takes tasks off the board until none are left, in the interpreter whose GIL this thread holds.
void work_through(TaskBoard& board, int worker,
                  std::chrono::steady_clock::time_point worker_start) {
  std::optional<TaskRunner> runner;
  try {
    runner.emplace(board.plan(), role_for(board.plan()));
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
  WorkerThreads(PythonRuntime& runtime, TaskBoard& board, std::shared_ptr<GilSampler> sampler)
      : runtime_(runtime), board_(board), sampler_(std::move(sampler)) {}

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
      if (board_.plan().mode == Mode::Subinterpreters) {
        auto interpreter = std::make_unique<SubInterpreter>(runtime_);
        {
          GilHold gil(interpreter->thread_state());
          auto sampled = GilSampler::enroll(sampler_, worker, interpreter->thread_state());
          work_through(board_, worker, worker_start);
        }
        // Ending it would wait for the threads a task left running: leave it to process exit.
        if (board_.abandoned(worker)) (void)interpreter.release();
      } else {
        ThreadState tstate(runtime_.main_interpreter());
        GilHold gil(tstate.get());
        auto sampled = GilSampler::enroll(sampler_, worker, tstate.get());
        work_through(board_, worker, worker_start);
      }
    } catch (const std::exception& error) {
      board_.worker_failed(worker, error.what());
    }
    board_.worker_exited(worker);
  }

  PythonRuntime& runtime_;
  TaskBoard& board_;
  std::shared_ptr<GilSampler> sampler_;  // null: not sampled
  std::mutex mutex_;
  std::vector<std::pair<int, std::thread>> threads_;
};

}  // namespace

RunResult run_plain_serial(TaskBoard& board) {
  const int worker = board.new_worker_id();
  work_through(board, worker, board.start());
  board.worker_exited(worker);
  return board.finish("serial");
}

RunResult run_supervised_in_process(PythonRuntime& runtime, TaskBoard& board, int& signal) {
  const RunPlan& plan = board.plan();
  // Static: a thread left stuck in C code may still reach it after this function returns.
  static std::mutex pools_mutex;
  static std::vector<std::unique_ptr<WorkerThreads>> pools;
  WorkerThreads* workers;
  auto gil_sampler = GilSampler::start(board.start());  // GIL sampler: the workers enroll
  {
    std::lock_guard lock(pools_mutex);
    pools.push_back(std::make_unique<WorkerThreads>(runtime, board, gil_sampler));
    workers = pools.back().get();
  }
  const int count = plan.mode == Mode::Serial ? 1 : std::max(1, std::min(plan.workers, plan.tasks));
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
  RunResult result = board.finish(std::string(to_string(plan.mode)));
  if (gil_sampler) gil_sampler->stop_into(result);  // GIL sampler: per-task split, segments
  return result;
}

}  // namespace pyhost
