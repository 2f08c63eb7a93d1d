// RankSlots: where rank 0 puts attempts of `pyhost batch --engine mpi`.
#include "batch/rank_slots.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pyhost::batch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RankSlots, SpreadsSingleJobsOverTheRanksInTurn) {
  RankSlots slots({"a", "a", "b"}, {2, 2, 2});
  std::vector<int> placed;
  for (int i = 0; i < 6; ++i) {
    auto ranks = slots.find(1, "");
    ASSERT_TRUE(ranks);
    slots.take(*ranks);
    placed.push_back(ranks->front());
  }
  EXPECT_THAT(placed, ElementsAre(0, 1, 2, 0, 1, 2));
  EXPECT_FALSE(slots.find(1, "")) << "every slot taken";
  slots.release(1);
  EXPECT_THAT(*slots.find(1, ""), ElementsAre(1));
}

TEST(RankSlots, LeastLoadedRankFirst) {
  RankSlots slots({"a", "a", "a"}, {3, 3, 3});
  slots.take({0});
  slots.take({0});
  slots.take({1});
  EXPECT_THAT(*slots.find(1, ""), ElementsAre(2));
}

TEST(RankSlots, GangsTakeDistinctRanksOfTheirHost) {
  RankSlots slots({"a", "b", "b", "b"}, {1, 1, 1, 1});
  auto gang = slots.find(2, "b");
  ASSERT_TRUE(gang);
  EXPECT_EQ(gang->size(), 2u);
  for (int r : *gang) EXPECT_EQ(slots.host(r), "b");
  slots.take(*gang);
  EXPECT_FALSE(slots.find(2, "b")) << "one free rank left on b";
  EXPECT_TRUE(slots.find(1, "b"));
  EXPECT_THAT(*slots.find(1, "a"), ElementsAre(0));
  EXPECT_FALSE(slots.find(1, "c"));
}

TEST(RankSlots, LostRanksGetNothingAndMakeJobsImpossible) {
  RankSlots slots({"a", "b"}, {1, 1});
  EXPECT_FALSE(slots.impossible(2, ""));
  slots.lose(1);
  EXPECT_TRUE(slots.any_lost());
  EXPECT_THAT(*slots.find(1, ""), ElementsAre(0));
  EXPECT_FALSE(slots.find(1, "b"));
  EXPECT_THAT(slots.impossible(1, "b").value_or(""), HasSubstr("on host 'b'"));
  EXPECT_THAT(slots.impossible(2, "").value_or(""), HasSubstr("needs 2 ranks, and 1 live rank"));
  EXPECT_FALSE(slots.impossible(1, "a"));
}

}  // namespace
}  // namespace pyhost::batch
