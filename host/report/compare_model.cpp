// `pyhost compare`: from the runs' JSON files to statistics, warnings and explanations.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "report/compare.hpp"

namespace pyhost::compare {
namespace {

double clamp01(double x) {
  return std::clamp(x, 0.0, 1.0);
}

template <typename Measure>
double median_of(const std::vector<RunResult>& runs, Measure measure) {
  std::vector<double> values;
  values.reserve(runs.size());
  for (const auto& run : runs) values.push_back(std::invoke(measure, run));
  return stats::median(std::move(values));
}

double overlapped_fraction(const RunResult& run) {
  return overlap(run).overlapped_fraction();
}

bool is_baseline(const Config& config) {
  return config.mode_info().baseline;
}

// Below this share of the busy time with two tasks in flight, a run did no parallel work.
constexpr double kNoParallelOverlap = 0.10;
// pyperf's rule: a standard deviation of 10 % of the mean or more is unstable.
constexpr double kUnstable = 0.10;
// Serial tasks on a CPU this much of the time they could run are CPU-bound.
constexpr double kCpuBoundShare = 0.8;
// Outliers this far off the median get a warning (all are counted in the table).
constexpr double kMaterialOutlier = 0.05;
// Tasks that waited this share of their time for a CPU ran on a busy machine.
constexpr double kBusy = 0.15;
// Tasks that took turns: at most this many running or ready to run at once on average.
constexpr double kTurnTaking = 1.2;

// Per worker (one OS thread in the in-process modes), sum(part) / sum(wall) over its tasks,
// clamped to [0, 1], then averaged over the workers; nullopt when a task has no part (or there
// are no tasks).
template <typename Part>
std::optional<double> per_worker_share(const std::vector<TaskResult>& tasks, Part part) {
  std::map<int, std::pair<double, double>> per_worker;  // worker -> (part, wall)
  for (const auto& task : tasks) {
    const std::optional<double> value = part(task);
    if (!value) return std::nullopt;
    auto& [sum, wall] = per_worker[task.worker];
    sum += *value;
    wall += task.wall_s();
  }
  double total = 0;
  int counted = 0;
  for (const auto& [worker, totals] : per_worker) {
    if (totals.second <= 0) continue;
    total += clamp01(totals.first / totals.second);
    ++counted;
  }
  if (!counted) return std::nullopt;
  return total / counted;
}

std::string percent(double fraction) {
  return fmt::format("{:.0f} %", fraction * 100);
}

}  // namespace

// ---- What one run says
// ------------------------------------------------------------------------------

double startup_s(const RunResult& run) {
  return run.startup_s();
}

double task_span_s(const RunResult& run) {
  if (run.tasks.empty()) return 0;
  double first = run.tasks.front().start_s, last = run.tasks.front().end_s;
  for (const auto& task : run.tasks) {
    first = std::min(first, task.start_s);
    last = std::max(last, task.end_s);
  }
  return last - first;
}

double cpu_util(const RunResult& run) {
  if (run.wall_s <= 0) return 0;
  double cpu = 0;
  for (const auto& task : run.tasks) cpu += task.cpu_s;
  return cpu / run.wall_s;
}

double off_cpu_fraction(const RunResult& run) {
  return per_worker_share(run.tasks,
                          [](const TaskResult& task) {
                            return std::optional<double>(
                                std::max(0.0, task.wall_s() - task.cpu_s - task.runq_s));
                          })
      .value_or(0);
}

double runq_fraction(const RunResult& run) {
  double runq = 0, wall = 0;
  for (const auto& task : run.tasks) {
    runq += task.runq_s;
    wall += task.wall_s();
  }
  return wall > 0 ? clamp01(runq / wall) : 0;
}

double cpu_share(const RunResult& run) {
  double cpu = 0, could_run = 0;
  for (const auto& task : run.tasks) {
    cpu += task.cpu_s;
    could_run += std::max(0.0, task.wall_s() - task.runq_s);
  }
  return could_run > 0 ? clamp01(cpu / could_run) : 0;
}

double runnable_parallelism(const RunResult& run) {
  const double busy = overlap(run).busy;
  if (busy <= 0) return 0;
  double active = 0;
  for (const auto& task : run.tasks) active += task.cpu_s + task.runq_s;
  return active / busy;
}

std::optional<double> sampled_gil_wait(const RunResult& run) {
  return per_worker_share(run.tasks, [](const TaskResult& task) { return task.gil_wait_s; });
}

std::optional<double> sampled_gil_held(const RunResult& run) {
  return per_worker_share(run.tasks, [](const TaskResult& task) { return task.gil_held_s; });
}

std::optional<double> gil_switch_rate(const RunResult& run) {
  if (!run.gil || run.wall_s <= 0) return std::nullopt;
  return static_cast<double>(run.gil->switches) / run.wall_s;
}

bool runq_measured(const RunResult& run) {
  return std::any_of(run.tasks.begin(), run.tasks.end(),
                     [](const TaskResult& t) { return t.runq_s > 0; });
}

stats::Overlap overlap(const RunResult& run) {
  std::vector<stats::Interval> intervals;
  intervals.reserve(run.tasks.size());
  for (const auto& task : run.tasks) intervals.push_back({task.start_s, task.end_s});
  return stats::overlap(std::move(intervals));
}

// ---- Plan -----------------------------------------------------------------------------------

std::string Config::label() const {
  return mode_info().single_worker ? series() : fmt::format("{} -j{}", series(), workers);
}

std::string Config::series() const {
  return show_python && !python.empty() ? python + " " + mode : mode;
}

bool Config::one_gil() const {
  return mode_info().one_gil && !free_threaded;
}

bool Config::no_gil() const {
  // Threads (and sub-interpreters) of a free-threaded CPython have no GIL; serial has one thread
  // and processes are measured per process.
  return mode_info().no_gil ||
         (free_threaded && !mode_info().baseline && mode_info().backend == Backend::InProcess);
}

const ModeInfo& Config::mode_info() const {
  const ModeInfo* info = find_mode(mode);
  if (!info) throw std::invalid_argument("unknown mode '" + mode + "'");
  return *info;
}

std::vector<Config> plan_configs(const std::vector<std::string>& modes,
                                 const std::vector<int>& workers, int tasks) {
  const std::string baseline(baseline_mode().name);
  std::vector<Config> configs{{baseline, 1, tasks}};
  std::set<std::string> seen{baseline};
  std::vector<int> counts = workers;
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  for (const auto& mode : modes) {
    if (!seen.insert(mode).second) continue;
    for (int w : counts) configs.push_back({mode, w, tasks});
  }
  return configs;
}

std::vector<Config> plan_configs(const std::vector<PlannedInterpreter>& interpreters,
                                 const std::optional<PlannedInterpreter>& companion,
                                 const std::vector<std::string>& modes,
                                 const std::vector<int>& workers, int tasks,
                                 std::vector<std::string>* skipped) {
  const bool show_python = interpreters.size() > 1;
  auto on = [&](const PlannedInterpreter& python, const Config& config) {
    Config c = config;
    c.python = python.name;
    c.free_threaded = python.free_threaded;
    c.pyhost = python.pyhost;
    c.show_python = show_python;
    return c;
  };
  const bool threads_free_threaded =
      std::find(modes.begin(), modes.end(), "threads") != modes.end() &&
      std::any_of(interpreters.begin(), interpreters.end(),
                  [](const PlannedInterpreter& p) { return p.free_threaded; });
  std::vector<Config> configs;
  const std::vector<Config> plain = plan_configs(modes, workers, tasks);
  // The baselines first (the first interpreter's is every speedup's), then the modes.
  for (const auto& python : interpreters)
    for (const auto& config : plain)
      if (config.mode_info().baseline) configs.push_back(on(python, config));
  for (const auto& python : interpreters)
    for (const auto& config : plain) {
      if (config.mode_info().baseline) continue;
      if (config.mode_info().backend != Backend::FreeThreaded)
        configs.push_back(on(python, config));
    }
  // freethreaded: once, from this build (its companion runs it).
  bool freethreaded_planned = false;
  for (const auto& config : plain) {
    if (config.mode_info().backend != Backend::FreeThreaded) continue;
    if (threads_free_threaded) {
      if (skipped && !freethreaded_planned)
        skipped->push_back(fmt::format(
            "{}: left out: it is threads on a free-threaded CPython, measured as threads on the "
            "free-threaded interpreter listed",
            config.mode));
      freethreaded_planned = true;
      continue;
    }
    freethreaded_planned = true;
    Config c = on(companion.value_or(PlannedInterpreter{"", true, ""}), config);
    c.pyhost.clear();  // this build starts its companion
    configs.push_back(std::move(c));
  }
  return configs;
}

std::vector<Step> schedule(std::size_t configs, int repeat, int warmup) {
  std::vector<Step> steps;
  for (int round = 0; round < warmup; ++round)
    for (std::size_t c = 0; c < configs; ++c) steps.push_back({c, true, round});
  for (int round = 0; round < repeat; ++round)
    for (std::size_t c = 0; c < configs; ++c) steps.push_back({c, false, round});
  return steps;
}

// ---- Analysis -------------------------------------------------------------------------------

const ConfigResult* Comparison::baseline() const {
  for (const auto& result : results)
    if (is_baseline(result.config)) return &result;
  return nullptr;
}

ConfigResult analyse(const Config& config, const std::vector<RunResult>& runs) {
  ConfigResult r;
  r.config = config;
  for (const auto& run : runs) r.runs_s.push_back(run.wall_s);
  r.wall = stats::summarize(r.runs_s);
  if (runs.empty()) return r;

  r.cpu_util = median_of(runs, cpu_util);
  r.off_cpu = median_of(runs, off_cpu_fraction);
  if (config.no_gil()) {
    r.gil_wait = 0.0;  // no GIL to wait for (unless a module turned it back on: see below)
  } else if (config.mode_info().gil_wait_measurable()) {
    // Sampled where every run was; else the off-CPU share stands in (it reads low on a busy
    // machine: the run-queue wait of a thread handed the GIL is not counted).
    r.gil_sampled = std::all_of(runs.begin(), runs.end(),
                                [](const RunResult& run) { return sampled_gil_wait(run); });
    if (r.gil_sampled) {
      r.gil_wait = median_of(runs, [](const RunResult& run) { return *sampled_gil_wait(run); });
      r.gil_held =
          median_of(runs, [](const RunResult& run) { return sampled_gil_held(run).value_or(0); });
    } else {
      r.gil_wait = r.off_cpu;
    }
  }
  for (const auto& run : runs)
    if (!run.gil_enabled_by.empty()) r.gil_enabled_by = run.gil_enabled_by;
  if (std::all_of(runs.begin(), runs.end(),
                  [](const RunResult& run) { return gil_switch_rate(run).has_value(); }))
    r.gil_switch_rate = median_of(runs, [](const RunResult& run) { return *gil_switch_rate(run); });
  r.runq = median_of(runs, runq_fraction);
  r.cpu_share = median_of(runs, cpu_share);
  r.runnable = median_of(runs, runnable_parallelism);
  r.runq_measured = std::any_of(runs.begin(), runs.end(),
                                [](const RunResult& run) { return runq_measured(run); });
  r.startup_s = median_of(runs, startup_s);
  r.task_s = median_of(runs, task_span_s);
  r.overlapped = median_of(runs, overlapped_fraction);
  for (const auto& run : runs)
    if (run.peak_rss_kb)
      r.peak_rss_mb = std::max(r.peak_rss_mb.value_or(0), *run.peak_rss_kb / 1024.0);
  if (config.mode_info().backend == Backend::WorkerProcesses && !runs.empty())
    r.worker_process_rss_mb = median_of(runs, [](const RunResult& run) {
      long largest = 0;  // a task's figure is its worker process's peak so far
      for (const auto& task : run.tasks) largest = std::max(largest, task.peak_rss_kb);
      return largest / 1024.0;
    });

  // The timeline shown is the run closest to the median.
  std::size_t best = 0;
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (std::fabs(runs[i].wall_s - r.wall.median) < std::fabs(runs[best].wall_s - r.wall.median))
      best = i;
  r.timeline_run = best;
  for (const auto& task : runs[best].tasks)
    r.timeline.push_back({task.id, task.worker, task.start_s, task.end_s, task.gil_held_s,
                          task.gil_wait_s, task.off_cpu_s});
  if (const auto& gil = runs[best].gil) {
    r.gil_timeline = gil->workers;
    r.gil_switches = gil->switches;
    r.gil_source = gil->source;
    r.gil_note = gil->note;
  }
  std::sort(r.timeline.begin(), r.timeline.end(),
            [](const TimelineEntry& a, const TimelineEntry& b) { return a.task < b.task; });
  for (const auto& worker : runs[best].worker_info) {
    const auto id = static_cast<std::size_t>(std::max(0, worker.id));
    if (id >= r.worker_startup_s.size()) r.worker_startup_s.resize(id + 1, 0.0);
    r.worker_startup_s[id] = worker.startup_s;
  }
  r.concurrency = overlap(runs[best]).concurrency();
  return r;
}

namespace {

// Whether a configuration did no parallel work, and why (empty: it did some).
std::string no_parallel_work(const ConfigResult& r, const ConfigResult* base, bool machine_busy) {
  const Config& c = r.config;
  if (is_baseline(c) || std::min(c.workers, c.tasks) < 2 || r.wall.n == 0) return {};
  if (r.overlapped < kNoParallelOverlap)
    return fmt::format(
        "its tasks never ran at the same time (two or more in flight {} of the "
        "time): each waited for the previous one",
        percent(r.overlapped));
  const bool cpu_bound = base && base->wall.n > 0 && base->cpu_share >= kCpuBoundShare;
  // Without run-queue delays, tasks kept off the CPUs by other programs look like tasks that
  // took turns: judge only on a quiet machine.
  const bool judged = r.runq_measured || !machine_busy;
  if (cpu_bound && judged && r.runnable <= kTurnTaking)
    return fmt::format(
        "its tasks were in flight together but took turns: {:.2f} of them running "
        "or ready to run at once on average{}",
        r.runnable,
        c.one_gil() ? " (one GIL: the threads waited for each other)" : " (a lock held in turn?)");
  return {};
}

void add_warnings(ConfigResult& r, int cores) {
  const std::string label = r.config.label();
  if (auto rel = r.wall.relative_stddev(); rel && *rel >= kUnstable)
    r.warnings.push_back(fmt::format(
        "{}: unstable: the standard deviation is {} of the mean (other programs running? "
        "try more --repeat)",
        label, percent(*rel)));
  if (!is_baseline(r.config) && r.config.workers > cores)
    r.warnings.push_back(fmt::format("{}: {} workers on {} cores: workers compete for CPUs", label,
                                     r.config.workers, cores));
  if (r.no_parallel_work)
    r.warnings.push_back(fmt::format("{}: did no parallel work: {}", label, r.no_parallel_reason));
  if (!r.gil_enabled_by.empty())
    r.warnings.push_back(fmt::format(
        "{}: CPython turned the GIL back on to load module '{}', which is not built for "
        "free-threading: this run had a GIL after all",
        label, r.gil_enabled_by));
}

// What running without a GIL costs one thread: a mode without a GIL at one worker against the
// baseline, in time and memory ("" when either is not measured).
std::string price_of_no_gil(const std::vector<ConfigResult>& results, const ConfigResult& r,
                            const ConfigResult* base) {
  if (!r.config.no_gil() || !base || base->wall.n == 0) return {};
  for (const auto& one : results) {
    if (one.config.series() != r.config.series() || one.config.workers != 1 || one.wall.n == 0)
      continue;
    std::string price =
        fmt::format("; one thread without the GIL took {:.3f} s against {}'s {:.3f} s ({:+.0f} %)",
                    one.wall.median, base->config.label(), base->wall.median,
                    (one.wall.median / base->wall.median - 1) * 100);
    if (one.peak_rss_mb && base->peak_rss_mb)
      price += fmt::format(", {:.1f} MB of memory against {:.1f} MB", *one.peak_rss_mb,
                           *base->peak_rss_mb);
    return price;
  }
  return {};
}

// The configuration of a series (a mode, on one interpreter) with the most workers.
const ConfigResult* widest(const std::vector<ConfigResult>& results, const std::string& series) {
  const ConfigResult* pick = nullptr;
  for (const auto& r : results)
    if (r.config.series() == series && (!pick || r.config.workers > pick->config.workers))
      pick = &r;
  return pick;
}

enum class Work { CpuBound, Waiting, Mixed };

Work kind_of_work(const ConfigResult& r, const ConfigResult* base) {
  const double share = base && base->wall.n > 0 ? base->cpu_share : r.cpu_share;
  if (share >= kCpuBoundShare) return Work::CpuBound;
  if (share <= 1 - kCpuBoundShare) return Work::Waiting;
  return Work::Mixed;
}

std::string explain(const ConfigResult& r, const ConfigResult* base, int cores) {
  const Config& c = r.config;
  const Work work = kind_of_work(r, base);
  const std::string speed = r.speedup ? fmt::format("{:.2f}x", *r.speedup) : "?x";
  const ModeInfo& mode = c.mode_info();
  if (mode.baseline && base && !(c == base->config)) {
    // Another interpreter's baseline: its own one-thread time against the first one's.
    return fmt::format("{}: one thread of {} took {:.3f} s against {}'s {:.3f} s: {} ({:.2f}x)",
                       c.series(), c.python, r.wall.median, base->config.python, base->wall.median,
                       r.wall.median <= base->wall.median
                           ? percent(1 - r.wall.median / base->wall.median) + " less time"
                           : percent(r.wall.median / base->wall.median - 1) + " more time",
                       r.speedup.value_or(0));
  }
  if (mode.baseline) {
    std::string line = fmt::format(
        "{}: the baseline, {} task{} one after another in {:.3f} s; "
        "a CPU was busy {} of that time",
        c.series(), c.tasks, c.tasks == 1 ? "" : "s", r.wall.median,
        percent(std::min(r.cpu_util, 1.0)));
    if (work == Work::CpuBound) line += " (CPU-bound: the GIL decides what threads can do)";
    if (work == Work::Waiting)
      line += " (the tasks mostly wait: I/O or sleep, which workers can overlap)";
    if (work == Work::Mixed) line += " (the tasks both compute and wait)";
    return line;
  }
  const std::string head = fmt::format("{}: {} with {} worker{}", c.series(), speed, c.workers,
                                       c.workers == 1 ? "" : "s");
  std::string tail;
  const double gil = r.gil_wait.value_or(0);
  const bool serial_timeline = r.no_parallel_work && r.overlapped < kNoParallelOverlap;
  if (serial_timeline) {
    tail = "its tasks ran one after another: no work was done in parallel";
  } else if (c.one_gil()) {
    if (work == Work::CpuBound && r.gil_sampled)
      tail = fmt::format(
          "{} of thread time waited for the GIL, {} held it ({}{}); "
          "{:.2f} CPUs busy on average",
          percent(gil), percent(r.gil_held.value_or(0)),
          r.gil_source == "estimate" ? "estimated from thread scheduler states"
                                     : "sampled from the GIL's state",
          r.gil_switch_rate ? fmt::format(", {:.0f} switches/s", *r.gil_switch_rate) : "",
          r.cpu_util);
    else if (work == Work::CpuBound)
      tail = fmt::format(
          "{} of thread time waited for the GIL (off-CPU while runnable in "
          "Python); {:.2f} CPUs busy on average",
          percent(gil), r.cpu_util);
    else if (work == Work::Waiting)
      tail = fmt::format(
          "the threads overlap their waiting (I/O, sleep): off-CPU {} of the time, "
          "but not for the GIL, which they release while they wait",
          percent(r.off_cpu));
    else
      tail = fmt::format(
          "{} of thread time off-CPU, waiting for I/O or for the GIL{} (the tasks "
          "compute {} of the time); {:.2f} CPUs busy on average",
          percent(r.gil_sampled ? std::max(r.off_cpu, gil) : gil),
          r.gil_sampled ? fmt::format(" ({} for the GIL)", percent(gil)) : "",
          percent(base ? base->cpu_share : r.cpu_share), r.cpu_util);
  } else {
    // On a free-threaded CPython, threads are what the freethreaded mode is.
    const std::string_view what =
        !c.no_gil() || mode.no_gil ? mode.explanation
        : mode.one_gil ? std::string_view("threads without a GIL (free-threaded CPython)")
                       : std::string_view("sub-interpreters of a free-threaded CPython (no GIL)");
    if (r.no_parallel_work)
      tail = fmt::format("{}, yet no parallel work: {}", what, r.no_parallel_reason);
    else if (work == Work::Waiting)
      tail = fmt::format("{}: the workers overlap their waiting; efficiency {}", what,
                         percent(r.efficiency.value_or(0)));
    else
      tail = fmt::format("{}: {:.2f} CPUs busy at once, efficiency {}", what, r.cpu_util,
                         percent(r.efficiency.value_or(0)));
    if (!r.gil_enabled_by.empty())
      tail += fmt::format("; but the GIL was turned back on for module '{}': this run had a GIL",
                          r.gil_enabled_by);
  }
  if (r.wall.median > 0 && r.startup_s > 0.1 * r.wall.median)
    tail +=
        fmt::format("; worker start-up took {} of the wall", percent(r.startup_s / r.wall.median));
  if (c.workers > cores) tail += fmt::format(" ({} workers on {} cores)", c.workers, cores);
  return head + " — " + tail;
}

// The fastest configuration run on an interpreter (by name), if any.
const ConfigResult* fastest_on(const std::vector<ConfigResult>& results,
                               const std::string& python) {
  const ConfigResult* pick = nullptr;
  for (const auto& r : results)
    if (r.config.python == python && r.wall.n > 0 && r.speedup &&
        (!pick || r.wall.median < pick->wall.median))
      pick = &r;
  return pick;
}

// For each interpreter after the first: its fastest configuration against the first one's serial
// (and the first one's own fastest), and its one-thread time against the first one's.
std::vector<std::string> interpreter_summaries(const Comparison& c, const ConfigResult* base) {
  std::vector<std::string> lines;
  if (c.interpreters.size() < 2 || !base || base->wall.n == 0) return lines;
  const std::string& first = c.interpreters.front();
  const ConfigResult* first_best = fastest_on(c.results, first);
  for (std::size_t i = 1; i < c.interpreters.size(); ++i) {
    const std::string& python = c.interpreters[i];
    const ConfigResult* best = fastest_on(c.results, python);
    if (!best) continue;
    std::string line =
        fmt::format("{} against {}: its fastest, {}, ran {:.2f}x as fast as {}'s serial", python,
                    first, best->config.label(), *best->speedup, first);
    if (first_best && first_best != base)
      line += fmt::format(" ({}'s fastest, {}: {:.2f}x)", first, first_best->config.label(),
                          *first_best->speedup);
    for (const auto& r : c.results)
      if (r.config.python == python && r.config.mode_info().baseline && r.wall.n > 0) {
        line +=
            fmt::format("; one thread: {:.3f} s against {:.3f} s ({:+.0f} % time)", r.wall.median,
                        base->wall.median, (r.wall.median / base->wall.median - 1) * 100);
        break;
      }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

void finish(Comparison& comparison) {
  const ConfigResult* base_ptr = comparison.baseline();
  const std::optional<ConfigResult> base =
      base_ptr ? std::optional<ConfigResult>(*base_ptr) : std::nullopt;
  for (auto& r : comparison.results) {
    if (r.worker_process_rss_mb && *r.worker_process_rss_mb > 0)
      r.rss_per_worker_mb = r.worker_process_rss_mb;
    else if (!is_baseline(r.config) && base && base->peak_rss_mb && r.peak_rss_mb)
      r.rss_per_worker_mb =
          std::max(0.0, (*r.peak_rss_mb - *base->peak_rss_mb) / std::max(1, r.config.workers));
    if (!base || base->wall.n == 0 || r.wall.n == 0) continue;
    if (r.config == base->config) {
      r.speedup = 1.0;
      r.speedup_err = 0.0;
      r.efficiency = 1.0;
      continue;
    }
    const stats::Ratio s = stats::speedup(base->wall, r.wall);
    r.speedup = s.value;
    r.speedup_err = s.error;
    // Another interpreter's serial: its speedup is its one-thread time against the first one's,
    // not parallel work (no efficiency).
    if (is_baseline(r.config)) continue;
    r.efficiency = stats::efficiency(s.value, r.config.workers);
    r.karp_flatt = stats::karp_flatt(s.value, r.config.workers);
  }

  // Amdahl's serial fraction per mode, from all its worker counts.
  std::map<std::string, std::vector<stats::SpeedupPoint>> points;
  for (const auto& r : comparison.results)
    if (!is_baseline(r.config) && r.speedup)
      points[r.config.series()].push_back({r.config.workers, *r.speedup});
  comparison.amdahl_serial_fraction.clear();
  for (const auto& [mode, pts] : points)
    if (auto f = stats::fit_amdahl_serial_fraction(pts))
      comparison.amdahl_serial_fraction[mode] = *f;

  const ConfigResult* busiest = nullptr;
  for (const auto& r : comparison.results)
    if (r.wall.n > 0 && (!busiest || r.runq > busiest->runq)) busiest = &r;
  const bool machine_busy = busiest && busiest->runq >= kBusy;

  for (auto& r : comparison.results) {
    r.warnings.clear();
    r.no_parallel_reason = no_parallel_work(r, base ? &*base : nullptr, machine_busy);
    r.no_parallel_work = !r.no_parallel_reason.empty();
    add_warnings(r, comparison.cores);
  }

  if (machine_busy)
    comparison.warnings.push_back(fmt::format(
        "the machine was busy: the tasks of {} spent {} of their time waiting for a CPU (other "
        "programs running? see `uptime`), so the speedups are distorted",
        busiest->config.label(), percent(busiest->runq)));
  for (const auto& r : comparison.results)
    for (const auto& w : r.warnings) comparison.warnings.push_back(w);
  // Outliers (counted in the table) that are far enough off to matter, all on one line: with
  // few, tight runs the modified Z-score also flags runs a percent or two off the median.
  std::string outliers;
  std::size_t outlier_count = 0;
  for (const auto& r : comparison.results) {
    std::string values;
    for (std::size_t i : r.wall.outliers) {
      if (std::fabs(r.runs_s[i] - r.wall.median) < kMaterialOutlier * r.wall.median) continue;
      values += fmt::format("{}{:.3f} s", values.empty() ? "" : ", ", r.runs_s[i]);
      ++outlier_count;
    }
    if (!values.empty())
      outliers += fmt::format("{}{} {} (median {:.3f} s)", outliers.empty() ? "" : "; ",
                              r.config.label(), values, r.wall.median);
  }
  if (outlier_count)
    comparison.warnings.push_back(fmt::format(
        "{} outlier run{} (modified Z-score > 3.5) more than {:.0f} % off the median, kept in the "
        "statistics: {}",
        outlier_count, outlier_count == 1 ? "" : "s", kMaterialOutlier * 100, outliers));

  // One explanation per mode (per mode and interpreter), from its widest configuration.
  comparison.explanations.clear();
  std::vector<std::string> modes;
  for (const auto& r : comparison.results)
    if (std::find(modes.begin(), modes.end(), r.config.series()) == modes.end())
      modes.push_back(r.config.series());
  for (const auto& mode : modes)
    if (const ConfigResult* r = widest(comparison.results, mode))
      comparison.explanations.push_back(
          explain(*r, base ? &*base : nullptr, comparison.cores) +
          price_of_no_gil(comparison.results, *r, base ? &*base : nullptr));

  // Side by side (`--python`): is another interpreter worth it for this script?
  for (const auto& line : interpreter_summaries(comparison, base ? &*base : nullptr))
    comparison.explanations.push_back(line);

  // hyperfine's summary: the fastest against each of the others.
  comparison.verdicts.clear();
  const ConfigResult* fastest = nullptr;
  for (const auto& r : comparison.results)
    if (r.wall.n > 0 && (!fastest || r.wall.median < fastest->wall.median)) fastest = &r;
  if (fastest) {
    // Against each other mode as the explanations show it (its widest configuration), and
    // against the fastest mode's own other worker counts.
    std::vector<const ConfigResult*> others;
    for (const auto& r : comparison.results) {
      if (&r == fastest || r.wall.n == 0) continue;
      if (r.config.series() == fastest->config.series() ||
          widest(comparison.results, r.config.series()) == &r)
        others.push_back(&r);
    }
    std::stable_sort(others.begin(), others.end(),
                     [](const ConfigResult* a, const ConfigResult* b) {
                       return a->wall.median < b->wall.median;
                     });
    for (const ConfigResult* other : others) {
      const stats::Ratio ratio = stats::speedup(other->wall, fastest->wall);
      comparison.verdicts.push_back(
          ratio.error
              ? fmt::format("{} ran {:.2f} ± {:.2f} times faster than {}", fastest->config.label(),
                            ratio.value, *ratio.error, other->config.label())
              : fmt::format("{} ran {:.2f} times faster than {}", fastest->config.label(),
                            ratio.value, other->config.label()));
    }
  }
}

std::pair<double, double> detail_window(const ConfigResult& r, double length) {
  if (r.timeline.empty()) return {0, length};
  // Per worker, its first task's start and its last task's end.
  std::map<int, std::pair<double, double>> span;
  double first = r.timeline.front().start_s, last = r.timeline.front().end_s;
  for (const auto& t : r.timeline) {
    auto [it, added] = span.try_emplace(t.worker, t.start_s, t.end_s);
    if (!added) {
      it->second.first = std::min(it->second.first, t.start_s);
      it->second.second = std::max(it->second.second, t.end_s);
    }
    first = std::min(first, t.start_s);
    last = std::max(last, t.end_s);
  }
  double from = first, to = last;
  double together_from = first, together_to = last;
  for (const auto& [worker, s] : span) {
    together_from = std::max(together_from, s.first);
    together_to = std::min(together_to, s.second);
  }
  if (together_to > together_from) from = together_from, to = together_to;
  double start = (from + to) / 2 - length / 2;
  start = std::max(start, first);
  return {start, start + length};
}

// ---- Driving --------------------------------------------------------------------------------

DriveResult drive(const std::vector<Config>& configs, int repeat, int warmup, const Runner& runner,
                  const Progress& progress) {
  DriveResult result;
  std::vector<bool> active(configs.size(), true);
  std::vector<std::vector<RunResult>> samples(configs.size());
  const std::vector<Step> steps = schedule(configs.size(), repeat, warmup);
  std::size_t done = 0;
  for (const Step& step : steps) {
    ++done;
    if (!active[step.config]) continue;
    const Config& config = configs[step.config];
    if (progress) progress(config, step, done, steps.size());
    RunOutcome outcome = runner(config);
    switch (outcome.kind) {
      case RunOutcome::Kind::Unavailable:
        for (std::size_t i = 0; i < configs.size(); ++i)
          if (configs[i].series() == config.series()) active[i] = false;
        result.skipped.push_back(fmt::format("{}: skipped: {}", config.series(), outcome.message));
        break;
      case RunOutcome::Kind::Failed:
        result.ok = false;
        result.failed_config = config.label();
        result.message = fmt::format("{} failed ({} {} of {}): {}", config.label(),
                                     step.warmup ? "warmup" : "run", step.repeat + 1,
                                     step.warmup ? warmup : repeat, outcome.message);
        return result;
      case RunOutcome::Kind::Ok:
        if (!step.warmup) samples[step.config].push_back(std::move(outcome.sample));
        break;
    }
  }
  for (std::size_t i = 0; i < configs.size(); ++i)
    if (active[i]) result.runs.emplace_back(configs[i], std::move(samples[i]));
  return result;
}

}  // namespace pyhost::compare
