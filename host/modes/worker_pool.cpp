#include "modes/worker_pool.hpp"

#include <algorithm>

namespace pyhost {

TaskBoard::TaskBoard(const RunPlan& plan, OutputMux& mux)
    : plan_(plan), mux_(mux), results_(static_cast<std::size_t>(plan.tasks)),
      done_(static_cast<std::size_t>(plan.tasks), false) {}

double TaskBoard::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void TaskBoard::complete(TaskResult result) {
  CapturedOutput captured = mux_.take_recorded(result.id);
  result.stdout_text = std::move(captured.out);
  result.stderr_text = std::move(captured.err);
  result.stdout_truncated = captured.out_truncated;
  result.stderr_truncated = captured.err_truncated;
  std::lock_guard lock(mutex_);
  const auto index = static_cast<std::size_t>(result.id);
  done_[index] = true;
  results_[index] = std::move(result);
}

void TaskBoard::worker_failed(int worker, const std::string& why) {
  mux_.host_message("pyhost: worker " + std::to_string(worker) + " failed to start: " + why);
  std::lock_guard lock(mutex_);
  if (worker_errors_.empty()) worker_errors_ = why;
}

void TaskBoard::worker_ready(int worker, double startup_s) {
  std::lock_guard lock(mutex_);
  workers_.push_back({worker, startup_s});
}

RunResult TaskBoard::finish(std::string mode_name) {
  std::lock_guard lock(mutex_);
  RunResult run;
  run.mode = std::move(mode_name);
  run.workers = plan_.workers;
  run.wall_s = elapsed_s();
  for (std::size_t i = 0; i < results_.size(); ++i) {
    if (!done_[i]) {
      results_[i].id = static_cast<int>(i);
      results_[i].status = TaskStatus::Failed;
      results_[i].exit_code = 1;
      results_[i].error = worker_errors_.empty() ? "not run" : "not run: " + worker_errors_;
    }
  }
  run.tasks = std::move(results_);
  std::sort(workers_.begin(), workers_.end(),
            [](const WorkerInfo& a, const WorkerInfo& b) { return a.id < b.id; });
  run.worker_info = std::move(workers_);
  return run;
}

}  // namespace pyhost
