// The TaskBoard's hook for a TaskFeed: tasks come from the feed, results go back to it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "output/output_mux.hpp"
#include "schedule/list_feed.hpp"
#include "schedule/task_board.hpp"

namespace pyhost {
namespace {

OutputMux::Options quiet() {
  OutputMux::Options options;
  options.out_fd = options.err_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  return options;
}

TEST(TaskFeed, TheBoardHandsOutTheFeedsTasksAndReportsTheirResults) {
  std::vector<int> reported;
  ListFeed feed({4, 1, 3},
                [&reported](const TaskResult& result) { reported.push_back(result.id); });
  RunPlan plan;
  plan.workers = 1;
  plan.tasks = 5;
  OutputMux mux(quiet());
  TaskBoard board(plan, mux, &feed);
  const int worker = board.new_worker_id();
  EXPECT_TRUE(board.has_pending());
  for (int expected : {4, 1, 3}) {
    const int task = board.next(worker);
    ASSERT_EQ(task, expected);
    EXPECT_FALSE(board.settled());
    TaskResult result;
    result.id = task;
    result.worker = worker;
    result.status = TaskStatus::Ok;
    result.exit_code = 0;
    board.complete(result);
  }
  EXPECT_EQ(board.next(worker), -1);
  EXPECT_FALSE(board.has_pending());
  EXPECT_TRUE(board.settled());
  EXPECT_EQ(reported, (std::vector<int>{4, 1, 3}));
  RunResult run = board.finish();
  EXPECT_EQ(run.tasks[4].status, TaskStatus::Ok);
  EXPECT_EQ(run.tasks[0].status, TaskStatus::Failed);  // not this process's: left to the caller
}

// A feed whose owner reports the tasks it never handed out (as an MPI rank's, whose tasks are
// rank 0's to report).
class SettlingFeed final : public TaskFeed {
 public:
  int next() override { return handed_++ == 0 ? 2 : -1; }
  bool exhausted() const override { return handed_ > 0; }
  void finished(const TaskResult&) override {}
  void cancel() override {}
  bool settles_unrun() const override { return true; }

 private:
  int handed_ = 0;
};

TEST(TaskFeed, TasksAFeedSettlesItselfAreLeftOutOfTheBoardsResult) {
  SettlingFeed feed;
  RunPlan plan;
  plan.workers = 1;
  plan.tasks = 1000;
  plan.keep_records = KeepRecords::Failures;
  OutputMux mux(quiet());
  TaskBoard board(plan, mux, &feed);
  const int worker = board.new_worker_id();
  ASSERT_EQ(board.next(worker), 2);
  TaskResult result;
  result.id = 2;
  result.status = TaskStatus::Crashed;
  board.complete(result);
  EXPECT_EQ(board.next(worker), -1);
  RunResult run = board.finish();
  ASSERT_EQ(run.tasks.size(), 1u);
  EXPECT_EQ(run.tasks[0].id, 2);
  EXPECT_EQ(run.tally.tasks, 1);
  EXPECT_EQ(run.tally.crashed, 1);
}

TEST(TaskFeed, StoppingTheBoardCancelsTheFeed) {
  ListFeed feed({0, 1}, nullptr);
  RunPlan plan;
  plan.workers = 1;
  plan.tasks = 2;
  OutputMux mux(quiet());
  TaskBoard board(plan, mux, &feed);
  board.stop();
  EXPECT_TRUE(feed.exhausted());
  EXPECT_EQ(board.next(board.new_worker_id()), -1);
}

}  // namespace
}  // namespace pyhost
