#include "pyhost/gil_timeline.hpp"

#include <algorithm>
#include <limits>

namespace pyhost::gil {

std::string_view to_string(GilState state) {
  switch (state) {
    case GilState::Held:
      return "held";
    case GilState::Wait:
      return "wait";
    case GilState::Off:
      return "off";
  }
  return "off";
}

std::optional<GilState> parse_state(std::string_view name) {
  if (name == "held") return GilState::Held;
  if (name == "wait") return GilState::Wait;
  if (name == "off") return GilState::Off;
  return std::nullopt;
}

void SegmentRecorder::add(double t, GilState state) {
  if (!segments_.empty()) {
    Segment& last = segments_.back();
    last.end_s = std::max(last.end_s, t);
    if (last.state == state) return;
  }
  segments_.push_back({t, t, state});
}

void SegmentRecorder::finish(double t) {
  if (!segments_.empty()) segments_.back().end_s = std::max(segments_.back().end_s, t);
}

std::vector<Segment> merge_segments(std::vector<Segment> segments) {
  std::stable_sort(segments.begin(), segments.end(),
                   [](const Segment& a, const Segment& b) { return a.start_s < b.start_s; });
  std::vector<Segment> out;
  out.reserve(segments.size());
  for (const Segment& s : segments) {
    if (!(s.end_s > s.start_s)) continue;
    if (!out.empty() && out.back().state == s.state && s.start_s <= out.back().end_s) {
      out.back().end_s = std::max(out.back().end_s, s.end_s);
      continue;
    }
    out.push_back(s);
  }
  return out;
}

Coalesced coalesce_segments(std::vector<Segment> segments, std::size_t max_count) {
  Coalesced result;
  result.segments = merge_segments(std::move(segments));
  if (max_count == 0) max_count = 1;
  double resolution = 0.0005;
  while (result.segments.size() > max_count) {
    std::vector<Segment> kept;
    kept.reserve(result.segments.size());
    for (const Segment& s : result.segments) {
      if (!kept.empty() && s.end_s - s.start_s < resolution)
        kept.back().end_s = std::max(kept.back().end_s, s.end_s);
      else
        kept.push_back(s);
    }
    if (kept.size() > 1 && kept.front().end_s - kept.front().start_s < resolution) {
      kept[1].start_s = kept.front().start_s;
      kept.erase(kept.begin());
    }
    // Runs that now touch and share a state become one.
    std::vector<Segment> joined;
    joined.reserve(kept.size());
    for (const Segment& s : kept) {
      if (!joined.empty() && joined.back().state == s.state)
        joined.back().end_s = std::max(joined.back().end_s, s.end_s);
      else
        joined.push_back(s);
    }
    result.segments = std::move(joined);
    result.resolution_s = resolution;
    resolution *= 2;
  }
  return result;
}

namespace {

void add_overlap(StateTimes& times, const Segment& s, double t0, double t1) {
  const double a = std::max(s.start_s, t0), b = std::min(s.end_s, t1);
  if (b <= a) return;
  switch (s.state) {
    case GilState::Held:
      times.held_s += b - a;
      break;
    case GilState::Wait:
      times.wait_s += b - a;
      break;
    case GilState::Off:
      times.off_s += b - a;
      break;
  }
}

std::optional<StateTimes> scaled_to(const StateTimes& covered, double t0, double t1) {
  const double total = covered.total_s();
  if (!(total > 0) || !(t1 > t0)) return std::nullopt;
  const double scale = (t1 - t0) / total;
  return StateTimes{covered.held_s * scale, covered.wait_s * scale, covered.off_s * scale};
}

}  // namespace

StateTimes time_in_states(const std::vector<Segment>& segments, double t0, double t1) {
  StateTimes times;
  for (const Segment& s : segments) add_overlap(times, s, t0, t1);
  return times;
}

std::optional<StateTimes> split_interval(const std::vector<Segment>& segments, double t0,
                                         double t1) {
  return scaled_to(time_in_states(segments, t0, t1), t0, t1);
}

SegmentIndex::SegmentIndex(const std::vector<Segment>& segments) : segments_(segments) {
  max_end_.reserve(segments.size());
  double latest = -std::numeric_limits<double>::infinity();
  for (const Segment& s : segments) max_end_.push_back(latest = std::max(latest, s.end_s));
}

std::optional<StateTimes> SegmentIndex::split(double t0, double t1) const {
  // Before `first` every segment ends by t0; from the first that starts at t1, none can overlap.
  const auto first = std::partition_point(max_end_.begin(), max_end_.end(),
                                          [t0](double end) { return end <= t0; });
  StateTimes covered;
  for (auto i = static_cast<std::size_t>(first - max_end_.begin());
       i < segments_.size() && segments_[i].start_s < t1; ++i)
    add_overlap(covered, segments_[i], t0, t1);
  return scaled_to(covered, t0, t1);
}

std::string render_text(const std::vector<Segment>& segments, double t0, double t1, int width,
                        char outside) {
  std::string out;
  if (width <= 0) return out;
  const double dt = (t1 - t0) / width;
  std::size_t first = 0;  // segments are in time order: skip those that ended
  for (int c = 0; c < width; ++c) {
    const double a = t0 + dt * c, b = a + dt;
    while (first < segments.size() && segments[first].end_s <= a) ++first;
    double held = 0, wait = 0, off = 0;
    for (std::size_t i = first; i < segments.size() && segments[i].start_s < b; ++i) {
      const double overlap = std::min(segments[i].end_s, b) - std::max(segments[i].start_s, a);
      if (overlap <= 0) continue;
      (segments[i].state == GilState::Held   ? held
       : segments[i].state == GilState::Wait ? wait
                                             : off) += overlap;
    }
    if (held + wait + off <= 0)
      out += outside;
    else if (held >= wait && held >= off)
      out += "\u2588";  // █
    else if (wait >= off)
      out += "\u2591";  // ░
    else
      out += ' ';
  }
  return out;
}

}  // namespace pyhost::gil
