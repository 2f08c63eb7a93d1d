// `pyhost compare`: from the runs' JSON files to statistics, warnings and explanations.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "pyhost/compare.hpp"

namespace pyhost::compare {
namespace {

double clamp01(double x) {
  return std::clamp(x, 0.0, 1.0);
}

template <typename T>
T value_or(const nlohmann::json& doc, const char* key, T fallback) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return fallback;
  return it->get<T>();
}

template <typename Measure>
double median_of(const std::vector<RunSample>& runs, Measure measure) {
  std::vector<double> values;
  values.reserve(runs.size());
  for (const auto& run : runs) values.push_back(std::invoke(measure, run));
  return stats::median(std::move(values));
}

double overlapped_fraction(const RunSample& run) {
  return run.overlap().overlapped_fraction();
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

std::string percent(double fraction) {
  return fmt::format("{:.0f} %", fraction * 100);
}

}  // namespace

// ---- RunSample ------------------------------------------------------------------------------

bool RunSample::all_ok() const {
  return std::all_of(tasks.begin(), tasks.end(),
                     [](const TaskSample& t) { return t.status == "ok"; });
}

double RunSample::startup_s() const {
  double latest = 0;
  for (double s : worker_startup_s) latest = std::max(latest, s);
  return latest;
}

double RunSample::task_span_s() const {
  if (tasks.empty()) return 0;
  double first = tasks.front().start_s, last = tasks.front().end_s;
  for (const auto& task : tasks) {
    first = std::min(first, task.start_s);
    last = std::max(last, task.end_s);
  }
  return last - first;
}

double RunSample::cpu_util() const {
  if (wall_s <= 0) return 0;
  double cpu = 0;
  for (const auto& task : tasks) cpu += task.cpu_s;
  return cpu / wall_s;
}

double RunSample::off_cpu_fraction() const {
  std::map<int, std::pair<double, double>> per_worker;  // worker -> (off, wall)
  for (const auto& task : tasks) {
    auto& [off, wall] = per_worker[task.worker];
    off += std::max(0.0, task.wall_s - task.cpu_s - task.runq_s);
    wall += task.wall_s;
  }
  double sum = 0;
  int counted = 0;
  for (const auto& [worker, totals] : per_worker) {
    if (totals.second <= 0) continue;
    sum += clamp01(totals.first / totals.second);
    ++counted;
  }
  return counted ? sum / counted : 0;
}

double RunSample::runq_fraction() const {
  double runq = 0, wall = 0;
  for (const auto& task : tasks) {
    runq += task.runq_s;
    wall += task.wall_s;
  }
  return wall > 0 ? clamp01(runq / wall) : 0;
}

double RunSample::cpu_share() const {
  double cpu = 0, could_run = 0;
  for (const auto& task : tasks) {
    cpu += task.cpu_s;
    could_run += std::max(0.0, task.wall_s - task.runq_s);
  }
  return could_run > 0 ? clamp01(cpu / could_run) : 0;
}

double RunSample::runnable_parallelism() const {
  const double busy = overlap().busy;
  if (busy <= 0) return 0;
  double active = 0;
  for (const auto& task : tasks) active += task.cpu_s + task.runq_s;
  return active / busy;
}

namespace {

// Per worker, sum(part) / sum(wall) over its tasks, averaged over the workers; nullopt unless
// every task has the part.
std::optional<double> sampled_share(const std::vector<TaskSample>& tasks,
                                    std::optional<double> TaskSample::*part) {
  if (tasks.empty()) return std::nullopt;
  std::map<int, std::pair<double, double>> per_worker;  // worker -> (part, wall)
  for (const auto& task : tasks) {
    if (!(task.*part)) return std::nullopt;
    auto& [sum, wall] = per_worker[task.worker];
    sum += *(task.*part);
    wall += task.wall_s;
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

}  // namespace

std::optional<double> RunSample::sampled_gil_wait() const {
  return sampled_share(tasks, &TaskSample::gil_wait_s);
}

std::optional<double> RunSample::sampled_gil_held() const {
  return sampled_share(tasks, &TaskSample::gil_held_s);
}

std::optional<double> RunSample::gil_switch_rate() const {
  if (!gil_switches || wall_s <= 0) return std::nullopt;
  return static_cast<double>(*gil_switches) / wall_s;
}

bool RunSample::runq_measured() const {
  return std::any_of(tasks.begin(), tasks.end(), [](const TaskSample& t) { return t.runq_s > 0; });
}

stats::Overlap RunSample::overlap() const {
  std::vector<stats::Interval> intervals;
  intervals.reserve(tasks.size());
  for (const auto& task : tasks) intervals.push_back({task.start_s, task.end_s});
  return stats::overlap(std::move(intervals));
}

RunSample parse_run_json(const nlohmann::json& doc) {
  try {
    if (!doc.is_object()) throw std::runtime_error("not a JSON object");
    RunSample run;
    run.mode = doc.at("mode").get<std::string>();
    run.workers = value_or<int>(doc, "workers", 1);
    run.python = value_or<std::string>(doc, "python", "");
    run.wall_s = doc.at("wall_s").get<double>();
    if (auto it = doc.find("peak_rss_mb"); it != doc.end() && it->is_number())
      run.peak_rss_mb = it->get<double>();
    if (auto it = doc.find("worker_startup"); it != doc.end() && it->is_array()) {
      for (const auto& worker : *it) {
        const int id = worker.at("id").get<int>();
        if (id < 0 || id > 1'000'000) throw std::runtime_error("bad worker id");
        if (static_cast<std::size_t>(id) >= run.worker_startup_s.size())
          run.worker_startup_s.resize(static_cast<std::size_t>(id) + 1, 0.0);
        run.worker_startup_s[static_cast<std::size_t>(id)] = worker.at("startup_s").get<double>();
      }
    }
    for (const auto& item : doc.at("tasks")) {
      TaskSample task;
      task.id = item.at("id").get<int>();
      task.worker = value_or<int>(item, "worker", -1);
      task.status = item.at("status").get<std::string>();
      task.exit_code = value_or<int>(item, "exit_code", task.status == "ok" ? 0 : 1);
      task.start_s = value_or<double>(item, "start_s", 0);
      task.end_s = value_or<double>(item, "end_s", task.start_s);
      task.wall_s = value_or<double>(item, "wall_s", task.end_s - task.start_s);
      task.cpu_s = value_or<double>(item, "cpu_s", 0);
      task.runq_s = value_or<double>(item, "runq_s", 0);
      for (auto [key, field] : {std::pair{"gil_held_s", &TaskSample::gil_held_s},
                                std::pair{"gil_wait_s", &TaskSample::gil_wait_s},
                                std::pair{"off_cpu_s", &TaskSample::off_cpu_s}})
        if (auto it = item.find(key); it != item.end() && it->is_number())
          task.*field = it->get<double>();
      task.stderr_text = value_or<std::string>(item, "stderr", "");
      task.error = value_or<std::string>(item, "error", "");
      run.tasks.push_back(std::move(task));
    }
    if (auto it = doc.find("gil_switches"); it != doc.end() && it->is_number())
      run.gil_switches = it->get<long>();
    if (auto it = doc.find("gil_sampling"); it != doc.end() && it->is_object()) {
      run.gil_source = value_or<std::string>(*it, "source", "");
      run.gil_note = value_or<std::string>(*it, "note", "");
    }
    if (auto it = doc.find("gil_segments"); it != doc.end() && it->is_array()) {
      for (const auto& worker : *it) {
        gil::WorkerTimeline timeline;
        timeline.worker = worker.at("worker").get<int>();
        timeline.interpreter = value_or<int>(worker, "interpreter", 0);
        for (const auto& segment : worker.at("segments")) {
          auto state = gil::parse_state(segment.at(2).get<std::string>());
          if (!state) throw std::runtime_error("bad GIL state in gil_segments");
          timeline.segments.push_back(
              {segment.at(0).get<double>(), segment.at(1).get<double>(), *state});
        }
        run.gil_segments.push_back(std::move(timeline));
      }
    }
    return run;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(fmt::format("unexpected run JSON: {}", error.what()));
  }
}

// ---- Plan -----------------------------------------------------------------------------------

std::string Config::label() const {
  return mode == "serial" ? mode : fmt::format("{} -j{}", mode, workers);
}

bool in_process_parallel_mode(const std::string& mode) {
  return mode == "threads" || mode == "subinterpreters";
}

std::vector<Config> plan_configs(const std::vector<std::string>& modes,
                                 const std::vector<int>& workers, int tasks) {
  std::vector<Config> configs{{"serial", 1, tasks}};
  std::set<std::string> seen{"serial"};
  std::vector<int> counts = workers;
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  for (const auto& mode : modes) {
    if (!seen.insert(mode).second) continue;
    for (int w : counts) configs.push_back({mode, w, tasks});
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
    if (result.config.mode == "serial") return &result;
  return nullptr;
}

ConfigResult analyse(const Config& config, const std::vector<RunSample>& runs) {
  ConfigResult r;
  r.config = config;
  for (const auto& run : runs) r.runs_s.push_back(run.wall_s);
  r.wall = stats::summarize(r.runs_s);
  if (runs.empty()) return r;

  r.cpu_util = median_of(runs, &RunSample::cpu_util);
  r.off_cpu = median_of(runs, &RunSample::off_cpu_fraction);
  if (in_process_parallel_mode(config.mode)) {
    // Sampled where every run was; else the off-CPU share stands in (it reads low on a busy
    // machine: the run-queue wait of a thread handed the GIL is not counted).
    r.gil_sampled = std::all_of(runs.begin(), runs.end(),
                                [](const RunSample& run) { return run.sampled_gil_wait(); });
    if (r.gil_sampled) {
      r.gil_wait = median_of(runs, [](const RunSample& run) { return *run.sampled_gil_wait(); });
      r.gil_held = median_of(runs, [](const RunSample& run) {
        return run.sampled_gil_held().value_or(0);
      });
    } else {
      r.gil_wait = r.off_cpu;
    }
  }
  if (std::all_of(runs.begin(), runs.end(),
                  [](const RunSample& run) { return run.gil_switch_rate(); }))
    r.gil_switch_rate =
        median_of(runs, [](const RunSample& run) { return *run.gil_switch_rate(); });
  r.runq = median_of(runs, &RunSample::runq_fraction);
  r.cpu_share = median_of(runs, &RunSample::cpu_share);
  r.runnable = median_of(runs, &RunSample::runnable_parallelism);
  r.runq_measured = std::any_of(runs.begin(), runs.end(),
                                [](const RunSample& run) { return run.runq_measured(); });
  r.startup_s = median_of(runs, &RunSample::startup_s);
  r.task_s = median_of(runs, &RunSample::task_span_s);
  r.overlapped = median_of(runs, overlapped_fraction);
  for (const auto& run : runs)
    if (run.peak_rss_mb) r.peak_rss_mb = std::max(r.peak_rss_mb.value_or(0), *run.peak_rss_mb);

  // The timeline shown is the run closest to the median.
  std::size_t best = 0;
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (std::fabs(runs[i].wall_s - r.wall.median) < std::fabs(runs[best].wall_s - r.wall.median))
      best = i;
  r.timeline_run = best;
  for (const auto& task : runs[best].tasks)
    r.timeline.push_back({task.id, task.worker, task.start_s, task.end_s, task.gil_held_s,
                          task.gil_wait_s, task.off_cpu_s});
  r.gil_timeline = runs[best].gil_segments;
  r.gil_switches = runs[best].gil_switches;
  r.gil_source = runs[best].gil_source;
  r.gil_note = runs[best].gil_note;
  std::sort(r.timeline.begin(), r.timeline.end(),
            [](const TimelineEntry& a, const TimelineEntry& b) { return a.task < b.task; });
  r.worker_startup_s = runs[best].worker_startup_s;
  r.concurrency = runs[best].overlap().concurrency();
  return r;
}

namespace {

// Whether a configuration did no parallel work, and why (empty: it did some).
std::string no_parallel_work(const ConfigResult& r, const ConfigResult* base, bool machine_busy) {
  const Config& c = r.config;
  if (c.mode == "serial" || std::min(c.workers, c.tasks) < 2 || r.wall.n == 0) return {};
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
        c.mode == "threads" ? " (one GIL: the threads waited for each other)"
                            : " (a lock held in turn?)");
  return {};
}

void add_warnings(ConfigResult& r, int cores) {
  const std::string label = r.config.label();
  if (auto rel = r.wall.relative_stddev(); rel && *rel >= kUnstable)
    r.warnings.push_back(fmt::format(
        "{}: unstable: the standard deviation is {} of the mean (other programs running? "
        "try more --repeat)",
        label, percent(*rel)));
  if (r.config.mode != "serial" && r.config.workers > cores)
    r.warnings.push_back(fmt::format("{}: {} workers on {} cores: workers compete for CPUs", label,
                                     r.config.workers, cores));
  if (r.no_parallel_work)
    r.warnings.push_back(fmt::format("{}: did no parallel work: {}", label, r.no_parallel_reason));
}

const ConfigResult* widest(const std::vector<ConfigResult>& results, const std::string& mode) {
  const ConfigResult* pick = nullptr;
  for (const auto& r : results)
    if (r.config.mode == mode && (!pick || r.config.workers > pick->config.workers)) pick = &r;
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
  if (c.mode == "serial") {
    std::string line = fmt::format(
        "serial: the baseline, {} task{} one after another in {:.3f} s; "
        "a CPU was busy {} of that time",
        c.tasks, c.tasks == 1 ? "" : "s", r.wall.median, percent(std::min(r.cpu_util, 1.0)));
    if (work == Work::CpuBound) line += " (CPU-bound: the GIL decides what threads can do)";
    if (work == Work::Waiting)
      line += " (the tasks mostly wait: I/O or sleep, which workers can overlap)";
    if (work == Work::Mixed) line += " (the tasks both compute and wait)";
    return line;
  }
  const std::string head =
      fmt::format("{}: {} with {} worker{}", c.mode, speed, c.workers, c.workers == 1 ? "" : "s");
  std::string tail;
  const double gil = r.gil_wait.value_or(0);
  const bool serial_timeline = r.no_parallel_work && r.overlapped < kNoParallelOverlap;
  if (serial_timeline) {
    tail = "its tasks ran one after another: no work was done in parallel";
  } else if (c.mode == "threads") {
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
    const char* what = c.mode == "subinterpreters" ? "one GIL per sub-interpreter"
                       : c.mode == "processes"     ? "one interpreter per process, nothing shared"
                                                   : "";
    if (r.no_parallel_work)
      tail = fmt::format("{}, yet no parallel work: {}", what, r.no_parallel_reason);
    else if (work == Work::Waiting)
      tail = fmt::format("{}: the workers overlap their waiting; efficiency {}", what,
                         percent(r.efficiency.value_or(0)));
    else
      tail = fmt::format("{}: {:.2f} CPUs busy at once, efficiency {}", what, r.cpu_util,
                         percent(r.efficiency.value_or(0)));
  }
  if (r.wall.median > 0 && r.startup_s > 0.1 * r.wall.median)
    tail +=
        fmt::format("; worker start-up took {} of the wall", percent(r.startup_s / r.wall.median));
  if (c.workers > cores) tail += fmt::format(" ({} workers on {} cores)", c.workers, cores);
  return head + " — " + tail;
}

}  // namespace

void finish(Comparison& comparison) {
  const ConfigResult* base_ptr = comparison.baseline();
  const std::optional<ConfigResult> base =
      base_ptr ? std::optional<ConfigResult>(*base_ptr) : std::nullopt;
  for (auto& r : comparison.results) {
    if (!base || base->wall.n == 0 || r.wall.n == 0) continue;
    if (r.config.mode == "serial") {
      r.speedup = 1.0;
      r.speedup_err = 0.0;
      r.efficiency = 1.0;
      continue;
    }
    const stats::Ratio s = stats::speedup(base->wall, r.wall);
    r.speedup = s.value;
    r.speedup_err = s.error;
    r.efficiency = stats::efficiency(s.value, r.config.workers);
    r.karp_flatt = stats::karp_flatt(s.value, r.config.workers);
  }

  // Amdahl's serial fraction per mode, from all its worker counts.
  std::map<std::string, std::vector<stats::SpeedupPoint>> points;
  for (const auto& r : comparison.results)
    if (r.config.mode != "serial" && r.speedup)
      points[r.config.mode].push_back({r.config.workers, *r.speedup});
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

  // One explanation per mode, from its widest configuration.
  comparison.explanations.clear();
  std::vector<std::string> modes;
  for (const auto& r : comparison.results)
    if (std::find(modes.begin(), modes.end(), r.config.mode) == modes.end())
      modes.push_back(r.config.mode);
  for (const auto& mode : modes)
    if (const ConfigResult* r = widest(comparison.results, mode))
      comparison.explanations.push_back(explain(*r, base ? &*base : nullptr, comparison.cores));

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
      if (r.config.mode == fastest->config.mode || widest(comparison.results, r.config.mode) == &r)
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
  std::vector<std::vector<RunSample>> samples(configs.size());
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
          if (configs[i].mode == config.mode) active[i] = false;
        result.skipped.push_back(fmt::format("{}: skipped: {}", config.mode, outcome.message));
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
