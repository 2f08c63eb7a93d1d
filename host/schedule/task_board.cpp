#include "schedule/task_board.hpp"

#include "schedule/task_feed.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pyhost {

TaskBoard::TaskBoard(const RunPlan& plan, OutputMux& mux, TaskFeed* feed)
    : plan_(plan), mux_(mux), feed_(feed), next_worker_(0), done_(static_cast<std::size_t>(plan.tasks), false) {
  if (plan.keep_records == KeepRecords::All) kept_.reserve(static_cast<std::size_t>(plan.tasks));
}

void TaskBoard::settle_locked(TaskResult result) {
  tally_.add(result);
  if (plan_.keep_records == KeepRecords::All || result.status != TaskStatus::Ok)
    kept_.push_back(std::move(result));
}

double TaskBoard::elapsed_s() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void TaskBoard::notify() {
  changed_.notify_all();
}

int TaskBoard::next(int worker) {
  if (feed_) return next_from_feed(*feed_, worker);
  std::lock_guard lock(mutex_);
  if (stopped_ || next_task_ >= plan_.tasks) return -1;
  running_[next_task_] = {next_task_, worker, Clock::now()};
  return next_task_++;
}

// Hook for a TaskFeed (a resumed run, a rank of an MPI run): the feed says which task is next.
int TaskBoard::next_from_feed(TaskFeed& feed, int worker) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return -1;
    ++taking_;  // the run must not look settled while a worker waits for the feed
  }
  int task = feed.next();
  {
    std::lock_guard lock(mutex_);
    --taking_;
    if (task >= plan_.tasks) task = -1;
    if (task >= 0) running_[task] = {task, worker, Clock::now()};
  }
  if (task < 0) notify();  // the run may have settled (a task handed out changes nothing)
  return task;
}

bool TaskBoard::all_handed_out_locked() const {
  return feed_ ? feed_->exhausted() : next_task_ >= plan_.tasks;
}

void TaskBoard::started(int task, int worker) {
  std::lock_guard lock(mutex_);
  running_[task] = {task, worker, Clock::now()};
}

bool TaskBoard::complete(TaskResult result) {
  TaskResult for_feed;
  bool settled = false;
  CapturedOutput captured = mux_.take_recorded(result.id);
  result.stdout_text = std::move(captured.out);
  result.stderr_text = std::move(captured.err);
  result.stdout_truncated = captured.out_truncated;
  result.stderr_truncated = captured.err_truncated;
  {
    std::lock_guard lock(mutex_);
    const auto index = static_cast<std::size_t>(result.id);
    running_.erase(result.id);
    if (done_[index]) return false;
    done_[index] = true;
    ++done_count_;
    if (feed_) for_feed = result;
    settle_locked(std::move(result));
    settled = settled_locked();
  }
  if (feed_) feed_->finished(for_feed);
  // Only the supervisor waits on the board, and only for it to settle (it ticks anyway): waking
  // it for every result would cost a thread hand-off per task.
  if (settled) notify();
  return true;
}

void TaskBoard::settle_from_outside(int task, TaskStatus status, int exit_code, std::string error) {
  TaskResult for_feed;
  mux_.finish_task(task);
  CapturedOutput captured = mux_.take_recorded(task);
  {
    std::lock_guard lock(mutex_);
    const auto index = static_cast<std::size_t>(task);
    auto it = running_.find(task);
    if (it == running_.end() || done_[index]) return;
    TaskResult result;
    result.id = task;
    result.worker = it->second.worker;
    result.status = status;
    result.exit_code = exit_code;
    result.start_s = std::chrono::duration<double>(it->second.since - start_).count();
    result.end_s = elapsed_s();
    result.error = std::move(error);
    result.stdout_text = std::move(captured.out);
    result.stderr_text = std::move(captured.err);
    done_[index] = true;
    ++done_count_;
    abandoned_.push_back(it->second.worker);
    running_.erase(it);
    if (feed_) for_feed = result;
    settle_locked(std::move(result));
  }
  if (feed_) feed_->finished(for_feed);
  notify();
}

void TaskBoard::abandon_worker(int worker) {
  {
    std::lock_guard lock(mutex_);
    abandoned_.push_back(worker);
  }
  notify();
}

int TaskBoard::healthy_workers() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(live_ids_.begin(), live_ids_.end(), [this](int id) {
    return std::find(abandoned_.begin(), abandoned_.end(), id) == abandoned_.end();
  }));
}

void TaskBoard::worker_failed(int worker, const std::string& why) {
  mux_.host_message(fmt::format("pyhost: worker {} failed: {}", worker, why));
  {
    std::lock_guard lock(mutex_);
    if (worker_errors_.empty()) worker_errors_ = why;
  }
  notify();
}

void TaskBoard::worker_ready(int worker, double startup_s) {
  std::lock_guard lock(mutex_);
  workers_.push_back({worker, startup_s});
}

void TaskBoard::worker_exited(int worker) {
  {
    std::lock_guard lock(mutex_);
    live_ids_.erase(std::remove(live_ids_.begin(), live_ids_.end(), worker), live_ids_.end());
  }
  notify();
}

int TaskBoard::new_worker_id() {
  std::lock_guard lock(mutex_);
  live_ids_.push_back(next_worker_);  // until worker_exited()
  return next_worker_++;
}

void TaskBoard::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  if (feed_) feed_->cancel();
  notify();
}

bool TaskBoard::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

bool TaskBoard::abandoned(int worker) const {
  std::lock_guard lock(mutex_);
  return std::find(abandoned_.begin(), abandoned_.end(), worker) != abandoned_.end();
}

int TaskBoard::abandoned_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(abandoned_.size());
}

bool TaskBoard::has_pending() const {
  std::lock_guard lock(mutex_);
  return !stopped_ && !all_handed_out_locked();
}

bool TaskBoard::settled_locked() const {
  if (!running_.empty() || taking_ > 0) return false;
  if (done_count_ == plan_.tasks) return true;
  // Nothing runs and nothing more will: stopped, or no worker is left to take the rest.
  return stopped_ || all_handed_out_locked() || (live_ids_.empty() && !worker_errors_.empty());
}

bool TaskBoard::settled() const {
  std::lock_guard lock(mutex_);
  return settled_locked();
}

std::vector<TaskBoard::Running> TaskBoard::running() const {
  std::lock_guard lock(mutex_);
  std::vector<Running> out;
  for (const auto& [task, entry] : running_) out.push_back(entry);
  return out;
}

void TaskBoard::wait_for_change(std::chrono::milliseconds at_most) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, at_most, [this] { return settled_locked(); });
}

RunResult TaskBoard::finish() {
  std::lock_guard lock(mutex_);
  RunResult run;
  run.mode = plan_.mode;
  run.workers = plan_.workers;
  run.wall_s = elapsed_s();
  if (!feed_ || !feed_->settles_unrun()) {
    for (std::size_t i = 0; i < done_.size(); ++i) {
      if (done_[i]) continue;
      TaskResult never;
      never.id = static_cast<int>(i);
      never.error = stopped_                 ? "not run: the run was stopped"
                    : worker_errors_.empty() ? "not run"
                                             : "not run: " + worker_errors_;
      settle_locked(std::move(never));
      done_[i] = true;  // a worker that comes back after this (abandoned) touches nothing
    }
  }
  std::sort(kept_.begin(), kept_.end(),
            [](const TaskResult& a, const TaskResult& b) { return a.id < b.id; });
  // Moved, not copied: a run of 100 000 tasks would hold its records twice.
  run.tasks = std::move(kept_);
  run.tally = tally_;
  std::sort(workers_.begin(), workers_.end(),
            [](const WorkerInfo& a, const WorkerInfo& b) { return a.id < b.id; });
  run.worker_info = workers_;
  run.abandoned_workers = static_cast<int>(abandoned_.size());
  return run;
}

}  // namespace pyhost
