// Rank 0's table of who runs what (--engine mpi), without MPI.
#include <gtest/gtest.h>

#include <algorithm>

#include "mpi/dispatcher.hpp"

namespace pyhost::mpi {
namespace {

TEST(MpiDispatcher, DynamicHandsOutEachTaskOnceToWhoeverAsks) {
  Dispatcher dispatcher({0, 1, 2, 3, 4}, 3, /*dynamic=*/true);
  EXPECT_EQ(dispatcher.take(2, 2), (std::vector<int>{0, 1}));
  EXPECT_EQ(dispatcher.take(0, 1), (std::vector<int>{2}));
  EXPECT_EQ(dispatcher.take(2, 5), (std::vector<int>{3, 4}));
  EXPECT_TRUE(dispatcher.take(1, 1).empty());  // nothing more: rank 1 is told so
}

TEST(MpiDispatcher, StaticGivesTaskKToRankKModR) {
  Dispatcher dispatcher({0, 1, 2, 3, 4, 5, 6}, 3, /*dynamic=*/false);
  EXPECT_EQ(dispatcher.take(1, 10), (std::vector<int>{1, 4}));
  EXPECT_EQ(dispatcher.take(0, 10), (std::vector<int>{0, 3, 6}));
  EXPECT_EQ(dispatcher.take(2, 1), (std::vector<int>{2}));
  EXPECT_EQ(dispatcher.take(2, 1), (std::vector<int>{5}));
  EXPECT_TRUE(dispatcher.take(2, 1).empty());
}

TEST(MpiDispatcher, ResumedTasksAreNotInTheTable) {
  Dispatcher dispatcher({1, 3}, 2, /*dynamic=*/true);
  EXPECT_EQ(dispatcher.take(0, 10), (std::vector<int>{1, 3}));
}

TEST(MpiDispatcher, TasksARankNeverStartedGoBackAndTheRunEndsWhenAllRanksAreDone) {
  Dispatcher dispatcher({0, 1, 2, 3}, 2, /*dynamic=*/true);
  EXPECT_EQ(dispatcher.take(1, 3), (std::vector<int>{0, 1, 2}));
  dispatcher.rank_done(1, {2});  // its workers ended with task 2 still queued
  EXPECT_FALSE(dispatcher.all_ranks_done());
  EXPECT_EQ(dispatcher.take(0, 5), (std::vector<int>{2, 3}));
  dispatcher.rank_done(0, {});
  EXPECT_TRUE(dispatcher.all_ranks_done());
  EXPECT_TRUE(dispatcher.never_run().empty());
}

TEST(MpiDispatcher, TasksNoRankTookAreReported) {
  Dispatcher dispatcher({0, 1, 2}, 2, /*dynamic=*/false);
  EXPECT_EQ(dispatcher.take(0, 1), (std::vector<int>{0}));
  dispatcher.rank_done(0, {});
  dispatcher.rank_done(1, {});
  auto left = dispatcher.never_run();
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace pyhost::mpi
