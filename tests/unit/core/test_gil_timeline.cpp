// The pure part of the GIL sampler: samples to runs, merging, bounding, splitting, drawing.
#include <gtest/gtest.h>

#include "pyhost/gil_timeline.hpp"

namespace pyhost::gil {
namespace {

constexpr GilState H = GilState::Held, W = GilState::Wait, O = GilState::Off;

TEST(GilTimeline, StateNamesRoundTrip) {
  for (GilState s : {H, W, O}) EXPECT_EQ(parse_state(to_string(s)), s);
  EXPECT_FALSE(parse_state("holding"));
}

TEST(GilTimeline, RecorderTurnsSamplesIntoRunsOfEqualState) {
  SegmentRecorder rec;
  rec.add(0.000, H);
  rec.add(0.001, H);
  rec.add(0.002, W);
  rec.add(0.003, W);
  rec.add(0.004, H);
  rec.finish(0.005);
  const std::vector<Segment> expected = {{0.000, 0.002, H}, {0.002, 0.004, W}, {0.004, 0.005, H}};
  EXPECT_EQ(rec.segments(), expected);
}

TEST(GilTimeline, RecorderWithoutSamplesHasNoRuns) {
  SegmentRecorder rec;
  rec.finish(1.0);
  EXPECT_TRUE(rec.segments().empty());
}

TEST(GilTimeline, MergeSortsJoinsEqualNeighboursAndDropsEmptyRuns) {
  const std::vector<Segment> in = {
      {0.2, 0.3, H}, {0.0, 0.1, H}, {0.1, 0.2, H}, {0.3, 0.3, W}, {0.3, 0.4, O}, {0.4, 0.5, O}};
  const std::vector<Segment> expected = {{0.0, 0.3, H}, {0.3, 0.5, O}};
  EXPECT_EQ(merge_segments(in), expected);
}

TEST(GilTimeline, MergeKeepsAGapBetweenEqualRuns) {
  const std::vector<Segment> in = {{0.0, 0.1, H}, {0.2, 0.3, H}};
  EXPECT_EQ(merge_segments(in).size(), 2u);
}

TEST(GilTimeline, CoalesceLeavesFewRunsAlone) {
  const std::vector<Segment> in = {{0.0, 0.005, H}, {0.005, 0.010, W}};
  const Coalesced c = coalesce_segments(in, 10);
  EXPECT_EQ(c.segments, in);
  EXPECT_EQ(c.resolution_s, 0);
}

TEST(GilTimeline, CoalesceBoundsTheCountAndKeepsTheSpanAndRoughShares) {
  // 10 s of two threads taking turns every 5 ms: 2000 runs.
  std::vector<Segment> in;
  for (int i = 0; i < 2000; ++i) in.push_back({i * 0.005, (i + 1) * 0.005, i % 2 ? W : H});
  // ...then a long off-CPU stretch with short blips of holding.
  for (int i = 0; i < 100; ++i) {
    in.push_back({10 + i * 0.1, 10 + i * 0.1 + 0.0002, H});
    in.push_back({10 + i * 0.1 + 0.0002, 10 + (i + 1) * 0.1, O});
  }
  const Coalesced c = coalesce_segments(in, 100);
  ASSERT_LE(c.segments.size(), 100u);
  EXPECT_GT(c.resolution_s, 0);
  EXPECT_DOUBLE_EQ(c.segments.front().start_s, 0);
  EXPECT_DOUBLE_EQ(c.segments.back().end_s, 20);
  for (std::size_t i = 1; i < c.segments.size(); ++i) {
    EXPECT_DOUBLE_EQ(c.segments[i].start_s, c.segments[i - 1].end_s);  // no gaps, no overlap
    EXPECT_NE(c.segments[i].state, c.segments[i - 1].state);
  }
  const StateTimes t = time_in_states(c.segments, 0, 20);
  EXPECT_NEAR(t.total_s(), 20, 1e-9);
  EXPECT_NEAR(t.off_s, 10, 0.1);  // the off-CPU stretch survives, blips absorbed
}

TEST(GilTimeline, TimeInStatesClipsToTheInterval) {
  const std::vector<Segment> s = {{0.0, 1.0, H}, {1.0, 2.0, W}, {2.0, 4.0, O}};
  const StateTimes t = time_in_states(s, 0.5, 3.0);
  EXPECT_DOUBLE_EQ(t.held_s, 0.5);
  EXPECT_DOUBLE_EQ(t.wait_s, 1.0);
  EXPECT_DOUBLE_EQ(t.off_s, 1.0);
}

TEST(GilTimeline, SplitScalesTheSampledSharesToTheWholeInterval) {
  // The samples start 0.1 s into the task: their shares stand for the whole task.
  const std::vector<Segment> s = {{0.1, 0.6, H}, {0.6, 1.1, W}};
  const auto split = split_interval(s, 0.0, 1.0);
  ASSERT_TRUE(split);
  EXPECT_NEAR(split->held_s, 0.5 / 0.9, 1e-12);
  EXPECT_NEAR(split->wait_s, 0.4 / 0.9, 1e-12);
  EXPECT_NEAR(split->total_s(), 1.0, 1e-12);
  EXPECT_FALSE(split_interval(s, 2.0, 3.0));
  EXPECT_FALSE(split_interval(s, 0.5, 0.5));
}

TEST(GilTimeline, TheIndexSplitsEachIntervalAsTheWholeWalkDoes) {
  // Sorted by start, one long segment overlapping later ones (merge_segments keeps overlaps of
  // different states): the running maximum of the ends keeps it in view.
  const std::vector<Segment> s = merge_segments(
      {{0.0, 0.2, H}, {0.1, 3.0, O}, {0.2, 0.4, W}, {0.4, 0.9, H}, {1.0, 1.5, W}, {1.5, 2.0, H}});
  const SegmentIndex index(s);
  for (double t0 = -0.5; t0 < 3.5; t0 += 0.05)
    for (double t1 = t0; t1 < 3.6; t1 += 0.15) {
      const auto walk = split_interval(s, t0, t1), indexed = index.split(t0, t1);
      ASSERT_EQ(walk.has_value(), indexed.has_value()) << t0 << " " << t1;
      if (!walk) continue;
      EXPECT_NEAR(walk->held_s, indexed->held_s, 1e-12);
      EXPECT_NEAR(walk->wait_s, indexed->wait_s, 1e-12);
      EXPECT_NEAR(walk->off_s, indexed->off_s, 1e-12);
    }
}

TEST(GilTimeline, TwoThreadsTakingTurnsEachHoldAboutHalf) {
  SegmentRecorder a, b;
  for (int ms = 0; ms < 1000; ++ms) {
    const bool a_turn = (ms / 5) % 2 == 0;  // 5 ms switch interval
    a.add(ms * 0.001, a_turn ? H : W);
    b.add(ms * 0.001, a_turn ? W : H);
  }
  a.finish(1.0);
  b.finish(1.0);
  const auto sa = *split_interval(a.segments(), 0, 1), sb = *split_interval(b.segments(), 0, 1);
  EXPECT_NEAR(sa.held_s, 0.5, 0.01);
  EXPECT_NEAR(sb.held_s, 0.5, 0.01);
  EXPECT_LE(sa.held_s + sb.held_s, 1.0 + 1e-9);
  EXPECT_EQ(a.segments().size(), 200u);
}

TEST(GilTimeline, TextTimelineOneCharacterPerColumn) {
  const std::vector<Segment> s = {{0.0, 0.4, H}, {0.4, 0.6, W}, {0.6, 1.0, O}};
  EXPECT_EQ(render_text(s, 0, 1, 5), "\u2588\u2588\u2591  ");
  // Outside any run: the filler.
  EXPECT_EQ(render_text(s, 0, 2, 4, '.'), "\u2588 ..");  // [0.5, 1): mostly off
  EXPECT_EQ(render_text({}, 0, 1, 3, '.'), "...");
  EXPECT_EQ(render_text(s, 0, 1, 0), "");
}

TEST(GilTimeline, TextTimelineColumnTakesTheStateThatLastedLongest) {
  // A column of 10 ms: 6 ms waiting, 4 ms holding -> waiting.
  const std::vector<Segment> s = {{0.0, 0.004, H}, {0.004, 0.010, W}};
  EXPECT_EQ(render_text(s, 0, 0.010, 1), "\u2591");
}

}  // namespace
}  // namespace pyhost::gil
