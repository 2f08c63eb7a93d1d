// Statistics of `pyhost compare` on data whose answers are known.
#include <gtest/gtest.h>

#include <cmath>

#include "report/stats.hpp"

namespace pyhost::stats {
namespace {

TEST(CompareStats, MedianOfOddEvenAndEmpty) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median({7}), 7);
  EXPECT_DOUBLE_EQ(median({}), 0);
}

TEST(CompareStats, MeanAndSampleStandardDeviation) {
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(mean(values), 5);
  ASSERT_TRUE(stddev(values));
  EXPECT_NEAR(*stddev(values), std::sqrt(32.0 / 7.0), 1e-12);  // n - 1
  EXPECT_FALSE(stddev({1.0}));
  EXPECT_FALSE(stddev({}));
}

TEST(CompareStats, MedianAbsoluteDeviation) {
  // median 2; deviations 1 1 0 0 2 4 7 -> median 1
  EXPECT_DOUBLE_EQ(mad({1, 1, 2, 2, 4, 6, 9}), 1);
  EXPECT_DOUBLE_EQ(mad({5, 5, 5}), 0);
}

TEST(CompareStats, ModifiedZScoresFlagOutliersAbove3Point5) {
  const std::vector<double> values = {1, 1, 2, 2, 4, 6, 9};
  const std::vector<double> z = modified_z_scores(values);
  ASSERT_EQ(z.size(), values.size());
  EXPECT_NEAR(z[6], 0.6745 * 7, 1e-12);  // (9 - 2) / MAD 1
  EXPECT_NEAR(z[5], 0.6745 * 4, 1e-12);  // 2.698: not an outlier
  EXPECT_NEAR(z[0], -0.6745, 1e-12);
  EXPECT_EQ(outliers(values), (std::vector<std::size_t>{6}));
  // A slow run among steady ones: the usual shape of a timing outlier.
  EXPECT_EQ(outliers({1.00, 1.01, 0.99, 1.02, 1.00, 1.60}), (std::vector<std::size_t>{5}));
  EXPECT_TRUE(outliers({1.00, 1.01, 0.99, 1.02, 1.00}).empty());
}

TEST(CompareStats, ZeroMadFallsBackToMeanAbsoluteDeviation) {
  // MAD 0 (most values equal): (x - median) / (1.253314 * MeanAD), MeanAD = 4 / 5.
  const std::vector<double> values = {1, 1, 1, 1, 5};
  EXPECT_NEAR(modified_z_scores(values)[4], 4 / (1.253314 * 0.8), 1e-9);
  EXPECT_EQ(outliers(values), (std::vector<std::size_t>{4}));
  EXPECT_TRUE(outliers({2, 2, 2, 2}).empty());
}

TEST(CompareStats, SummaryCollectsEverything) {
  const Summary s = summarize({1.0, 1.2, 0.9, 1.1, 3.0});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.median, 1.1);
  EXPECT_DOUBLE_EQ(s.mean, 7.2 / 5);
  EXPECT_DOUBLE_EQ(s.min, 0.9);
  EXPECT_DOUBLE_EQ(s.max, 3.0);
  EXPECT_NEAR(s.mad, 0.1, 1e-12);
  EXPECT_EQ(s.outliers, (std::vector<std::size_t>{4}));
  ASSERT_TRUE(s.relative_stddev());
  EXPECT_NEAR(*s.relative_stddev(), *s.stddev / s.mean, 1e-15);
  EXPECT_FALSE(summarize({1.0}).relative_stddev());
}

TEST(CompareStats, SpeedupPropagatesRelativeStandardDeviations) {
  Summary slow = summarize({1.8, 2.0, 2.2});  // mean 2, sd 0.2: 10 %
  Summary fast = summarize({0.9, 1.0, 1.1});  // mean 1, sd 0.1: 10 %
  const Ratio r = speedup(slow, fast);
  EXPECT_DOUBLE_EQ(r.value, 2.0);
  ASSERT_TRUE(r.error);
  EXPECT_NEAR(*r.error, 2.0 * std::sqrt(0.01 + 0.01), 1e-12);
  // One run: no spread, no error bar.
  EXPECT_FALSE(speedup(summarize({2.0}), fast).error);
  EXPECT_DOUBLE_EQ(speedup(summarize({2.0}), fast).value, 2.0);
}

TEST(CompareStats, EfficiencyAndKarpFlatt) {
  EXPECT_DOUBLE_EQ(efficiency(1.8, 2), 0.9);
  EXPECT_NEAR(*karp_flatt(2.0, 2), 0.0, 1e-15);  // ideal: no serial part
  EXPECT_NEAR(*karp_flatt(1.0, 2), 1.0, 1e-15);  // no speedup: all serial
  EXPECT_NEAR(*karp_flatt(1.6, 2), 0.25, 1e-12);
  EXPECT_NEAR(*karp_flatt(3.0, 4), (1.0 / 3 - 0.25) / 0.75, 1e-12);
  EXPECT_FALSE(karp_flatt(1.0, 1));  // undefined for one worker
  EXPECT_FALSE(karp_flatt(0.0, 2));
}

TEST(CompareStats, AmdahlFitRecoversTheSerialFraction) {
  const double f = 0.1;
  std::vector<SpeedupPoint> points;
  for (int p : {1, 2, 4, 8}) points.push_back({p, amdahl_speedup(f, p)});
  ASSERT_TRUE(fit_amdahl_serial_fraction(points));
  EXPECT_NEAR(*fit_amdahl_serial_fraction(points), f, 1e-12);
  EXPECT_NEAR(amdahl_speedup(0.1, 4), 1 / (0.1 + 0.9 / 4), 1e-12);
  EXPECT_DOUBLE_EQ(amdahl_speedup(0.0, 8), 8);
  EXPECT_DOUBLE_EQ(amdahl_speedup(1.0, 8), 1);
  // One point: its Karp-Flatt fraction. Only p = 1: nothing to fit.
  EXPECT_NEAR(*fit_amdahl_serial_fraction({{2, 1.6}}), *karp_flatt(1.6, 2), 1e-12);
  EXPECT_FALSE(fit_amdahl_serial_fraction({{1, 1.0}}));
}

TEST(CompareStats, OverlapOfTimelineIntervals) {
  Overlap one_after_another = overlap({{0, 1}, {1, 2}});
  EXPECT_DOUBLE_EQ(one_after_another.busy, 2);
  EXPECT_DOUBLE_EQ(one_after_another.overlapped, 0);
  EXPECT_DOUBLE_EQ(one_after_another.concurrency(), 1);

  Overlap side_by_side = overlap({{0, 2}, {0, 2}});
  EXPECT_DOUBLE_EQ(side_by_side.busy, 2);
  EXPECT_DOUBLE_EQ(side_by_side.overlapped, 2);
  EXPECT_DOUBLE_EQ(side_by_side.concurrency(), 2);
  EXPECT_DOUBLE_EQ(side_by_side.overlapped_fraction(), 1);

  Overlap partly = overlap({{0, 2}, {1, 3}, {5, 6}});  // a gap from 3 to 5 is not busy
  EXPECT_DOUBLE_EQ(partly.busy, 4);
  EXPECT_DOUBLE_EQ(partly.total, 5);
  EXPECT_DOUBLE_EQ(partly.overlapped, 1);
  EXPECT_DOUBLE_EQ(partly.overlapped_fraction(), 0.25);

  EXPECT_DOUBLE_EQ(overlap({}).concurrency(), 0);
}

}  // namespace
}  // namespace pyhost::stats
