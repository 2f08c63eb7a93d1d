// Statistics of repeated timings, pure C++ (no CPython): the numbers behind `pyhost compare`.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace pyhost::stats {

double median(std::vector<double> values);  // 0 for no values
double mean(const std::vector<double>& values);
// Sample standard deviation (n - 1); nullopt with fewer than two values.
std::optional<double> stddev(const std::vector<double>& values);
// Median absolute deviation from the median (raw, not scaled by 1.4826).
double mad(const std::vector<double>& values);

// Modified Z-scores (Iglewicz and Hoaglin): 0.6745 (x - median) / MAD. Where MAD is 0 (more
// than half the values equal), the mean absolute deviation stands in: (x - median) /
// (1.253314 MeanAD); where that is 0 too, every score is 0.
std::vector<double> modified_z_scores(const std::vector<double>& values);
// Indices of the values whose |modified Z-score| exceeds `threshold` (3.5 by convention).
std::vector<std::size_t> outliers(const std::vector<double>& values, double threshold = 3.5);

struct Summary {
  std::size_t n = 0;
  double median = 0, mean = 0, min = 0, max = 0, mad = 0;
  std::optional<double> stddev;       // nullopt for n < 2
  std::vector<std::size_t> outliers;  // indices into the values
  // sigma / mean; nullopt without a standard deviation or with a zero mean.
  std::optional<double> relative_stddev() const;
};

Summary summarize(const std::vector<double>& values);

// A ratio with its uncertainty.
struct Ratio {
  double value = 0;
  std::optional<double> error;  // one standard deviation; nullopt if either side has none
};

// How many times faster `faster` ran than `slower`: median(slower) / median(faster), with the
// uncertainty propagated from both relative standard deviations (first-order, independent
// errors): err = value * sqrt((s_a / m_a)^2 + (s_b / m_b)^2).
Ratio speedup(const Summary& slower, const Summary& faster);

double efficiency(double speedup, int workers);

// Karp-Flatt experimentally determined serial fraction: e = (1/S - 1/p) / (1 - 1/p).
// Undefined (nullopt) for p <= 1 or S <= 0.
std::optional<double> karp_flatt(double speedup, int workers);

// Serial fraction f of Amdahl's law S(p) = 1 / (f + (1 - f) / p) fitted by least squares to
// 1/S - 1/p = f (1 - 1/p) over the points with p > 1 (one point: its Karp-Flatt fraction).
struct SpeedupPoint {
  int workers = 1;
  double speedup = 1;
};
std::optional<double> fit_amdahl_serial_fraction(const std::vector<SpeedupPoint>& points);
double amdahl_speedup(double serial_fraction, double workers);

// Intervals of a timeline (tasks in flight): how much they overlapped.
struct Interval {
  double start = 0, end = 0;
};
struct Overlap {
  double busy = 0;        // length of the union of the intervals
  double total = 0;       // sum of the interval lengths
  double overlapped = 0;  // time during which at least two intervals were open
  // Average number of intervals open while any was: total / busy (1 = one at a time).
  double concurrency() const { return busy > 0 ? total / busy : 0; }
  // Share of the busy time with two or more intervals open.
  double overlapped_fraction() const { return busy > 0 ? overlapped / busy : 0; }
};
Overlap overlap(std::vector<Interval> intervals);

}  // namespace pyhost::stats
