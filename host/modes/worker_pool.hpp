// What every mode shares: handing out task ids, collecting results, and supervising the run
// (hard timeouts, Ctrl-C/SIGTERM, workers that never come back).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pyhost/output_mux.hpp"
#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

class TaskBoard {
 public:
  using Clock = std::chrono::steady_clock;
  struct Running {
    int task, worker;
    Clock::time_point since;
  };

  TaskBoard(const RunPlan& plan, OutputMux& mux);

  // Next task id for `worker`, or -1 when all have been handed out or the run was stopped. The
  // task counts as running from here on, so that the run cannot look settled before it starts.
  int next(int worker);
  // The task really begins now (its timeout counts from here).
  void started(int task, int worker);
  // Records a finished task; false (result dropped) if it was settled from outside meanwhile.
  bool complete(TaskResult result);
  // Settles a running task that its worker cannot finish (hard timeout, stop): the worker is
  // abandoned and must not take further tasks.
  void settle_from_outside(int task, TaskStatus status, int exit_code, std::string error);
  // The worker cannot be reused or ended (a task left threads running in it): like a stuck one.
  void abandon_worker(int worker);
  // Workers launched, not exited and not abandoned.
  int healthy_workers() const;
  void worker_failed(int worker, const std::string& why);
  void worker_ready(int worker, double startup_s);
  void worker_exited(int worker);
  int new_worker_id();

  void stop();
  bool stopped() const;
  bool abandoned(int worker) const;
  int abandoned_count() const;
  bool has_pending() const;
  // Every task finished or settled, or the run stopped with nothing left running.
  bool settled() const;
  std::vector<Running> running() const;
  void wait_for_change(std::chrono::milliseconds at_most);

  const RunPlan& plan() const { return plan_; }
  OutputMux& mux() { return mux_; }
  Clock::time_point start() const { return start_; }
  double elapsed_s() const;

  // Results in task order; tasks never run are `failed` with the reason.
  RunResult finish(std::string mode_name);

 private:
  bool settled_locked() const;
  void notify();

  const RunPlan& plan_;
  OutputMux& mux_;
  const Clock::time_point start_ = Clock::now();
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int next_task_ = 0;
  int next_worker_;
  bool stopped_ = false;
  std::vector<int> live_ids_;  // launched and not exited
  std::vector<TaskResult> results_;
  std::vector<bool> done_;
  std::map<int, Running> running_;
  std::vector<int> abandoned_;
  std::vector<WorkerInfo> workers_;
  std::string worker_errors_;
};

// Reactions of a mode to what the supervisor sees.
struct SupervisorHooks {
  std::function<void()> on_tick;                              // e.g. replace lost workers
  std::function<void(int signal)> on_signal;                  // forward the stop to running tasks
  std::function<void(const TaskBoard::Running&)> on_overdue;  // past timeout + kill-after
  std::function<void(const TaskBoard::Running&)> on_stuck;    // still running after a stop's grace
};

// Watches deadlines and signals until the board is settled; returns the signal that stopped
// the run (0 if none). Runs on the calling thread, which must not hold any GIL.
int supervise(TaskBoard& board, const SupervisorHooks& hooks);

class PythonRuntime;
// One task as plain python on the calling (main) thread, which holds the GIL.
RunResult run_plain_serial(TaskBoard& board);
// Runs the plan's tasks on worker threads under supervision (threads, subinterpreters, and
// serial when supervision is needed). Call with the main GIL released.
RunResult run_supervised_in_process(PythonRuntime& runtime, TaskBoard& board, int& signal);

}  // namespace pyhost
