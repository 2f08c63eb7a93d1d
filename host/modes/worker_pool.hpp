// What the in-process modes share: handing out task ids, collecting results, timing workers.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "pyhost/output_mux.hpp"
#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

class TaskBoard {
 public:
  TaskBoard(const RunPlan& plan, OutputMux& mux);

  // Next task id to run, or -1 when all have been handed out.
  int next() {
    int id = next_.fetch_add(1, std::memory_order_relaxed);
    return id < plan_.tasks ? id : -1;
  }
  void complete(TaskResult result);
  // A worker could not start: record why, for the tasks nobody ends up running.
  void worker_failed(int worker, const std::string& why);
  void worker_ready(int worker, double startup_s);

  const RunPlan& plan() const { return plan_; }
  OutputMux& mux() { return mux_; }
  std::chrono::steady_clock::time_point start() const { return start_; }
  double elapsed_s() const;

  // Results in task order; tasks never run are `failed` with the workers' errors.
  RunResult finish(std::string mode_name);

 private:
  const RunPlan& plan_;
  OutputMux& mux_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::atomic<int> next_{0};
  std::mutex mutex_;
  std::vector<TaskResult> results_;
  std::vector<bool> done_;
  std::vector<WorkerInfo> workers_;
  std::string worker_errors_;
};

class PythonRuntime;
RunResult run_serial(PythonRuntime& runtime, TaskBoard& board);
RunResult run_threads(PythonRuntime& runtime, TaskBoard& board);
RunResult run_subinterpreters(PythonRuntime& runtime, TaskBoard& board);

}  // namespace pyhost
