#include "report/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace pyhost::stats {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<long>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<long>(mid));
  return (lower + upper) / 2;
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::optional<double> stddev(const std::vector<double>& values) {
  if (values.size() < 2) return std::nullopt;
  const double m = mean(values);
  double sum = 0;
  for (double v : values) sum += (v - m) * (v - m);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

double mad(const std::vector<double>& values) {
  if (values.empty()) return 0;
  const double m = median(values);
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double v : values) deviations.push_back(std::fabs(v - m));
  return median(std::move(deviations));
}

std::vector<double> modified_z_scores(const std::vector<double>& values) {
  std::vector<double> scores(values.size(), 0.0);
  if (values.empty()) return scores;
  const double m = median(values);
  const double deviation = mad(values);
  double scale = 0;
  if (deviation > 0) {
    scale = deviation / 0.6745;
  } else {
    double mean_ad = 0;
    for (double v : values) mean_ad += std::fabs(v - m);
    mean_ad /= static_cast<double>(values.size());
    scale = 1.253314 * mean_ad;
  }
  if (scale <= 0) return scores;
  for (std::size_t i = 0; i < values.size(); ++i) scores[i] = (values[i] - m) / scale;
  return scores;
}

std::vector<std::size_t> outliers(const std::vector<double>& values, double threshold) {
  std::vector<std::size_t> found;
  const std::vector<double> scores = modified_z_scores(values);
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (std::fabs(scores[i]) > threshold) found.push_back(i);
  return found;
}

std::optional<double> Summary::relative_stddev() const {
  if (!stddev || mean == 0) return std::nullopt;
  return *stddev / mean;
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) return s;
  s.median = median(values);
  s.mean = mean(values);
  s.stddev = stddev(values);
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  s.mad = mad(values);
  s.outliers = outliers(values);
  return s;
}

Ratio speedup(const Summary& slower, const Summary& faster) {
  Ratio r;
  if (faster.median <= 0) return r;
  r.value = slower.median / faster.median;
  auto a = slower.relative_stddev();
  auto b = faster.relative_stddev();
  if (a && b) r.error = r.value * std::sqrt(*a * *a + *b * *b);
  return r;
}

double efficiency(double speedup, int workers) {
  return workers > 0 ? speedup / static_cast<double>(workers) : 0;
}

std::optional<double> karp_flatt(double speedup, int workers) {
  if (workers <= 1 || speedup <= 0) return std::nullopt;
  const double p = static_cast<double>(workers);
  return (1 / speedup - 1 / p) / (1 - 1 / p);
}

std::optional<double> fit_amdahl_serial_fraction(const std::vector<SpeedupPoint>& points) {
  double num = 0, den = 0;
  for (const auto& point : points) {
    if (point.workers <= 1 || point.speedup <= 0) continue;
    const double x = 1 - 1 / static_cast<double>(point.workers);
    const double y = 1 / point.speedup - 1 / static_cast<double>(point.workers);
    num += x * y;
    den += x * x;
  }
  if (den <= 0) return std::nullopt;
  return num / den;
}

double amdahl_speedup(double serial_fraction, double workers) {
  const double denom = serial_fraction + (1 - serial_fraction) / workers;
  return denom > 0 ? 1 / denom : workers;
}

Overlap overlap(std::vector<Interval> intervals) {
  Overlap result;
  // Sweep over start (+1) and end (-1) events; ends sort before starts at the same instant,
  // so intervals that merely touch do not count as overlapping.
  std::vector<std::pair<double, int>> events;
  for (const auto& interval : intervals) {
    if (interval.end <= interval.start) continue;
    result.total += interval.end - interval.start;
    events.emplace_back(interval.start, +1);
    events.emplace_back(interval.end, -1);
  }
  std::sort(events.begin(), events.end());
  int open = 0;
  double last = 0;
  for (const auto& [time, delta] : events) {
    if (open >= 1) result.busy += time - last;
    if (open >= 2) result.overlapped += time - last;
    open += delta;
    last = time;
  }
  return result;
}

}  // namespace pyhost::stats
