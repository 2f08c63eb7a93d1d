// The task board of a run: which task each worker takes next, which are running since when,
// and their results: a tally of every task, and the records the plan keeps
// (RunPlan::keep_records; keeping failures only, it holds one bit per ok task, not a record).
// Every backend hands out tasks and collects results through it; the supervisor watches it.
// Plain C++ (no CPython): unit-tested with fake workers, also under TSan.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "output/output_mux.hpp"
#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

class TaskFeed;

class TaskBoard {
 public:
  using Clock = std::chrono::steady_clock;
  struct Running {
    int task, worker;
    Clock::time_point since;
  };

  // `feed`: where the task ids come from and where results go when not 0..K-1 of this process
  // (a resumed run, a rank of an MPI run); null: the board counts 0..K-1 itself.
  TaskBoard(const RunPlan& plan, OutputMux& mux, TaskFeed* feed = nullptr);

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

  // Results in task order; tasks never run are `failed` with the reason (with a feed that
  // settles them itself, only those it handed out: the others are its own to report).
  RunResult finish();

 private:
  bool settled_locked() const;
  bool all_handed_out_locked() const;
  int next_from_feed(TaskFeed& feed, int worker);
  void notify();
  // Counts a settled task and keeps its record if the plan keeps it.
  void settle_locked(TaskResult result);

  const RunPlan& plan_;
  OutputMux& mux_;
  TaskFeed* const feed_;
  const Clock::time_point start_ = Clock::now();
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int next_task_ = 0;
  int taking_ = 0;  // workers waiting in TaskFeed::next()
  int next_worker_;
  bool stopped_ = false;
  std::vector<int> live_ids_;  // launched and not exited
  std::vector<TaskResult> kept_;  // in the order settled; sorted by finish()
  TaskTally tally_;
  std::vector<bool> done_;
  int done_count_ = 0;  // tasks in done_: settling is checked at every result, in O(1)
  std::map<int, Running> running_;
  std::vector<int> abandoned_;
  std::vector<WorkerInfo> workers_;
  std::string worker_errors_;
};

}  // namespace pyhost
