// Who held the GIL when: the pure part of pyhost's GIL sampler (no CPython here, so it is tested
// under TSan with the rest of pyhost_core). A sampler thread classifies each worker thread, a
// thousand times a second or more, as holding its interpreter's GIL, waiting for it, or off-CPU
// without wanting it (I/O, sleep, C code that released it); this turns those samples into runs
// of equal state, bounds their number, splits a worker's time into the three states, and draws
// them as a line of text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyhost::gil {

enum class GilState : std::uint8_t { Held, Wait, Off };

// "held", "wait", "off": the names used in JSON.
std::string_view to_string(GilState state);
std::optional<GilState> parse_state(std::string_view name);

// One run of equal state, in seconds since the run started.
struct Segment {
  double start_s = 0, end_s = 0;
  GilState state = GilState::Off;
  bool operator==(const Segment&) const = default;
};

// A worker's runs over one run of pyhost.
struct WorkerTimeline {
  int worker = 0;
  int interpreter = 0;            // workers with the same number share one GIL
  std::vector<Segment> segments;  // merged, bounded in number
};

// Samples of one worker, in time order, as runs of equal state: a sample at t holds until the
// next sample (or finish()).
class SegmentRecorder {
 public:
  void add(double t, GilState state);
  void finish(double t);  // closes the last run at t
  const std::vector<Segment>& segments() const { return segments_; }

 private:
  std::vector<Segment> segments_;
};

// Sorted by start, empty runs dropped, touching or overlapping runs of equal state joined.
std::vector<Segment> merge_segments(std::vector<Segment> segments);

// At most `max_count` runs: runs shorter than a resolution (doubled from 0.5 ms until they fit)
// are absorbed by the run before them (the first by the one after). The time in each state
// shifts by at most about one resolution per absorbed run; the returned resolution is 0 when
// nothing had to go.
struct Coalesced {
  std::vector<Segment> segments;
  double resolution_s = 0;
};
Coalesced coalesce_segments(std::vector<Segment> segments, std::size_t max_count);

struct StateTimes {
  double held_s = 0, wait_s = 0, off_s = 0;
  double total_s() const { return held_s + wait_s + off_s; }
};

// Time in each state within [t0, t1].
StateTimes time_in_states(const std::vector<Segment>& segments, double t0, double t1);

// The split of [t0, t1] (a task) into the three states: the sampled shares of the part the
// samples cover, scaled to the whole interval; nullopt when no sample covers any of it.
std::optional<StateTimes> split_interval(const std::vector<Segment>& segments, double t0,
                                         double t1);

// split_interval for many intervals of one timeline: with segments in start order (as
// merge_segments leaves them) and the running maximum of their ends, each split looks only at the
// segments that can overlap it, not the whole run (a 100 000-task run was quadratic).
class SegmentIndex {
 public:
  explicit SegmentIndex(const std::vector<Segment>& segments);  // kept by reference
  std::optional<StateTimes> split(double t0, double t1) const;

 private:
  const std::vector<Segment>& segments_;
  std::vector<double> max_end_;  // max_end_[i]: the latest end among segments_[0..i]
};

// One character per column of (t1 - t0) / width seconds, for the state that took most of the
// column: '█' holding, '░' waiting, ' ' off-CPU; `outside` where no run covers the column (the
// worker did not exist). UTF-8, `width` characters wide.
std::string render_text(const std::vector<Segment>& segments, double t0, double t1, int width,
                        char outside = ' ');

}  // namespace pyhost::gil
