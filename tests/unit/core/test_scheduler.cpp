// The task board and supervisor, driven by a fake mode: worker threads that "run" tasks by
// consulting a script of behaviours, as hyperfine tests its benchmark logic with a mock
// executor. No CPython here; this file also runs under TSan.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "output/output_mux.hpp"
#include "schedule/supervisor.hpp"
#include "util/host_signals.hpp"

namespace pyhost {
namespace {

// A gate that fake tasks wait at until the test opens it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// A fake engine: N worker threads taking tasks off the board; `behaviour(task)` returns the
// task's exit code (and may block).
class FakeMode {
 public:
  FakeMode(RunPlan plan, std::function<int(int)> behaviour)
      : plan_(std::move(plan)),
        behaviour_(std::move(behaviour)),
        mux_(quiet()),
        board_(plan_, mux_) {}

  RunResult run(SupervisorHooks hooks = {}) {
    std::vector<std::thread> workers;
    for (int i = 0; i < std::min(plan_.workers, plan_.tasks); ++i) {
      const int worker = board_.new_worker_id();
      workers.emplace_back([this, worker] {
        board_.worker_ready(worker, 0.001 * (worker + 1));
        for (int task = board_.next(worker); task >= 0; task = board_.next(worker)) {
          board_.started(task, worker);
          ++runs_[static_cast<std::size_t>(task)];
          TaskResult result;
          result.id = task;
          result.worker = worker;
          result.exit_code = behaviour_(task);
          result.status = result.exit_code == 0 ? TaskStatus::Ok : TaskStatus::Failed;
          result.end_s = board_.elapsed_s();
          board_.complete(std::move(result));
          if (board_.abandoned(worker)) break;
        }
        board_.worker_exited(worker);
      });
    }
    signal_ = supervise(board_, hooks);
    for (auto& worker : workers) worker.join();
    return board_.finish();
  }

  TaskBoard& board() { return board_; }
  int signal() const { return signal_; }
  int runs_of(int task) const { return runs_[static_cast<std::size_t>(task)]; }

 private:
  static OutputMux::Options quiet() {
    OutputMux::Options options;
    options.out_fd = options.err_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    return options;
  }

  RunPlan plan_;
  std::function<int(int)> behaviour_;
  OutputMux mux_;
  TaskBoard board_;
  std::atomic<int> runs_[64] = {};
  int signal_ = 0;
};

RunPlan fake_plan(int workers, int tasks) {
  RunPlan plan;
  plan.mode = "threads";
  plan.workers = workers;
  plan.tasks = tasks;
  return plan;
}

TEST(Scheduler, EveryTaskRunsExactlyOnceAndResultsComeInTaskOrder) {
  FakeMode mode(fake_plan(4, 40), [](int task) { return task % 5 == 0 ? 3 : 0; });
  RunResult result = mode.run();
  ASSERT_EQ(result.tasks.size(), 40u);
  std::set<int> workers;
  for (int k = 0; k < 40; ++k) {
    const TaskResult& task = result.tasks[static_cast<std::size_t>(k)];
    EXPECT_EQ(task.id, k);
    EXPECT_EQ(mode.runs_of(k), 1);
    EXPECT_EQ(task.exit_code, k % 5 == 0 ? 3 : 0);
    workers.insert(task.worker);
  }
  EXPECT_EQ(result.mode, "threads");
  EXPECT_EQ(result.worker_info.size(), 4u);
  EXPECT_EQ(result.worker_info.front().id, 0);  // sorted by id
  EXPECT_LE(workers.size(), 4u);
  EXPECT_EQ(mode.signal(), 0);
  EXPECT_FALSE(result.all_ok());
}

TEST(Scheduler, AnOverdueTaskIsSettledFromOutsideAndItsWorkerAbandoned) {
  Gate stuck;
  RunPlan plan = fake_plan(2, 6);
  plan.timeout_s = 0.02;
  plan.kill_after_s = 0.02;
  FakeMode mode(plan, [&stuck](int task) {
    if (task == 1) stuck.wait();  // stuck in "C code" until the test lets it go
    return 0;
  });
  std::atomic<int> overdue{0};
  SupervisorHooks hooks;
  hooks.on_overdue = [&](const TaskBoard::Running& entry) {
    ++overdue;
    mode.board().settle_from_outside(entry.task, TaskStatus::Timeout, 1, "stuck");
  };
  std::thread release([&] {
    // The stuck worker comes back only after the run has been settled without it.
    while (mode.board().abandoned_count() == 0) std::this_thread::yield();
    stuck.open();
  });
  RunResult result = mode.run(hooks);
  release.join();
  EXPECT_EQ(overdue.load(), 1);
  EXPECT_EQ(result.tasks[1].status, TaskStatus::Timeout);
  EXPECT_EQ(result.tasks[1].error, "stuck");
  EXPECT_EQ(result.abandoned_workers, 1);
  for (int k : {0, 2, 3, 4, 5})
    EXPECT_EQ(result.tasks[static_cast<std::size_t>(k)].status, TaskStatus::Ok) << k;
}

TEST(Scheduler, SigintStopsHandingOutTasksAndTheRestAreReportedNotRun) {
  HostSignals signals;
  Gate first_started, finish;
  std::atomic<bool> raised{false};
  FakeMode mode(fake_plan(1, 10), [&](int task) {
    if (task == 0) {
      ::raise(SIGINT);  // recorded by the host's handler; the supervisor acts on it
      raised = true;
      finish.wait();
    }
    return 0;
  });
  SupervisorHooks hooks;
  std::atomic<int> forwarded{0};
  hooks.on_signal = [&](int signo) {
    forwarded = signo;
    finish.open();
  };
  RunResult result = mode.run(hooks);
  EXPECT_TRUE(raised.load());
  EXPECT_EQ(mode.signal(), SIGINT);
  EXPECT_EQ(forwarded.load(), SIGINT);
  EXPECT_EQ(result.tasks[0].status, TaskStatus::Ok);
  for (int k = 1; k < 10; ++k) {
    EXPECT_EQ(mode.runs_of(k), 0);
    EXPECT_EQ(result.tasks[static_cast<std::size_t>(k)].error, "not run: the run was stopped");
  }
}

TEST(Scheduler, ARunWhoseOnlyWorkerFailedToStartSettlesWithTheReason) {
  HostSignals signals;  // as every supervised run has: a signal of an earlier run is forgotten
  RunPlan plan = fake_plan(1, 3);
  OutputMux::Options options;
  options.out_fd = options.err_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  OutputMux mux(options);
  TaskBoard board(plan, mux);
  std::thread worker([&board] {
    const int id = board.new_worker_id();
    board.worker_failed(id, "no interpreter");
    board.worker_exited(id);
  });
  EXPECT_EQ(supervise(board, {}), 0);
  worker.join();
  RunResult result = board.finish();
  for (const auto& task : result.tasks) {
    EXPECT_EQ(task.status, TaskStatus::Failed);
    EXPECT_EQ(task.error, "not run: no interpreter");
  }
}

TEST(Scheduler, KeepingFailuresCountsEveryTaskAndKeepsOnlyTheOnesNotOk) {
  RunPlan plan = fake_plan(4, 40);
  plan.keep_records = KeepRecords::Failures;
  FakeMode mode(plan, [](int task) { return task % 5 == 0 ? 3 : 0; });
  RunResult result = mode.run();
  ASSERT_EQ(result.tasks.size(), 8u);  // 0, 5, ..., 35, in task order
  for (std::size_t i = 0; i < result.tasks.size(); ++i) {
    EXPECT_EQ(result.tasks[i].id, static_cast<int>(5 * i));
    EXPECT_EQ(result.tasks[i].exit_code, 3);
  }
  EXPECT_EQ(result.tally.tasks, 40);
  EXPECT_EQ(result.tally.ok, 32);
  EXPECT_EQ(result.tally.failed, 8);
  EXPECT_EQ(result.task_count(), 40);
  EXPECT_FALSE(result.all_ok());
}

TEST(Scheduler, KeepingFailuresStillReportsTasksSettledFromOutsideAndNeverRun) {
  HostSignals signals;
  Gate finish;
  RunPlan plan = fake_plan(1, 10);
  plan.keep_records = KeepRecords::Failures;
  FakeMode mode(plan, [&](int task) {
    if (task == 2) {
      ::raise(SIGINT);
      finish.wait();
    }
    return 0;
  });
  SupervisorHooks hooks;
  hooks.on_signal = [&](int) { finish.open(); };
  RunResult result = mode.run(hooks);
  EXPECT_EQ(result.tally.tasks, 10);
  EXPECT_EQ(result.tally.ok, 3);      // 0, 1, and 2, which finished after the signal
  EXPECT_EQ(result.tally.failed, 7);  // never run
  ASSERT_EQ(result.tasks.size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(result.tasks[i].id, static_cast<int>(i) + 3);
    EXPECT_EQ(result.tasks[i].error, "not run: the run was stopped");
  }
}

TEST(Scheduler, AnOkRunKeepingFailuresHoldsNoRecord) {
  RunPlan plan = fake_plan(2, 64);
  plan.keep_records = KeepRecords::Failures;
  FakeMode mode(plan, [](int) { return 0; });
  RunResult result = mode.run();
  EXPECT_TRUE(result.tasks.empty());
  EXPECT_EQ(result.tally.ok, 64);
  EXPECT_TRUE(result.all_ok());
}

}  // namespace
}  // namespace pyhost
