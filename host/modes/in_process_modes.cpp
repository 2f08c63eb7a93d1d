// serial, threads and subinterpreters: the modes that run tasks inside this process.
#include <spdlog/spdlog.h>

#include <optional>
#include <thread>
#include <vector>

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
void work_through(TaskBoard& board, int worker, std::chrono::steady_clock::time_point worker_start) {
  std::optional<TaskRunner> runner;
  try {
    runner.emplace(board.plan(), role_for(board.plan()));
  } catch (const std::exception& error) {
    board.worker_failed(worker, error.what());
    return;
  }
  board.worker_ready(worker, seconds_since(worker_start));
  for (int task = board.next(); task >= 0; task = board.next())
    board.complete(runner->run(task, worker, board.start(), board.mux()));
}

int thread_count(const RunPlan& plan) { return std::max(1, std::min(plan.workers, plan.tasks)); }

}  // namespace

RunResult run_serial(PythonRuntime&, TaskBoard& board) {
  work_through(board, 0, board.start());
  return board.finish("serial");
}

RunResult run_threads(PythonRuntime& runtime, TaskBoard& board) {
  {
    GilRelease main_thread_waits;
    std::vector<std::jthread> workers;
    for (int worker = 0; worker < thread_count(board.plan()); ++worker) {
      workers.emplace_back([&runtime, &board, worker] {
        const auto worker_start = std::chrono::steady_clock::now();
        try {
          ThreadState tstate(runtime.main_interpreter());
          GilHold gil(tstate.get());
          work_through(board, worker, worker_start);
        } catch (const std::exception& error) {
          board.worker_failed(worker, error.what());
        }
      });
    }
  }
  return board.finish("threads");
}

RunResult run_subinterpreters(PythonRuntime& runtime, TaskBoard& board) {
  {
    GilRelease main_thread_waits;
    std::vector<std::jthread> workers;
    for (int worker = 0; worker < thread_count(board.plan()); ++worker) {
      workers.emplace_back([&runtime, &board, worker] {
        const auto worker_start = std::chrono::steady_clock::now();
        try {
          SubInterpreter interpreter(runtime);
          GilHold gil(interpreter.thread_state());
          work_through(board, worker, worker_start);
        } catch (const std::exception& error) {
          board.worker_failed(worker, error.what());
        }
      });
    }
  }
  return board.finish("subinterpreters");
}

}  // namespace pyhost
