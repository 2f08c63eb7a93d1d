// `pyhost compare`: the same script measured in several execution modes and worker counts,
// with statistics, speedups and explanations, and the writers of its reports (terminal table,
// CSV, Markdown, JSON, HTML). Pure C++: the measurements come from `pyhost run --json` files
// written by child processes, so none of this touches CPython.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pyhost/gil_timeline.hpp"
#include "pyhost/modes.hpp"
#include "pyhost/results.hpp"
#include "report/stats.hpp"

namespace pyhost::compare {

// ---- What one run says (a `pyhost run --json` document, read with RunResult::from_json) ------

// Time until the last worker could take a task (0 without workers).
double startup_s(const RunResult& run);
// From the first task's start to the last task's end.
double task_span_s(const RunResult& run);
// Sum of the tasks' CPU time over the run's wall time: CPUs kept busy on average.
double cpu_util(const RunResult& run);
// Per worker (one OS thread in the in-process modes): the share of its tasks' wall time that
// was neither on a CPU nor waiting in the run queue, (wall - cpu - runq) / wall, summed over
// its tasks; then averaged over workers. For CPU-bound code in threads mode this is the time
// spent waiting for the GIL. Clamped to [0, 1].
double off_cpu_fraction(const RunResult& run);
// Share of the tasks' wall time spent waiting for a CPU (run queue): how busy the machine was.
double runq_fraction(const RunResult& run);
// CPU time over the time the tasks could have run, sum(cpu) / sum(wall - runq): near 1 for
// CPU-bound work whatever the load of the machine, near 0 for tasks that wait (I/O, sleep).
double cpu_share(const RunResult& run);
// Tasks running or ready to run at once, on average over the time any task was in flight:
// sum(cpu + runq) / busy. Tasks that take turns (one GIL, one lock) stay near 1.
double runnable_parallelism(const RunResult& run);
// From the GIL sampler, when every task has its split: per worker, the share of its tasks'
// wall spent waiting for the GIL (holding it), averaged over the workers.
std::optional<double> sampled_gil_wait(const RunResult& run);
std::optional<double> sampled_gil_held(const RunResult& run);
// GIL switches per second of wall.
std::optional<double> gil_switch_rate(const RunResult& run);
// Whether the run-queue delay was measured at all (some task has one above zero).
bool runq_measured(const RunResult& run);
stats::Overlap overlap(const RunResult& run);

// ---- Plan ----------------------------------------------------------------------------------

struct Config {
  std::string mode;  // a name from the mode table (pyhost/modes.hpp)
  int workers = 1;
  int tasks = 1;
  // The CPython that ran it ("3.13", "3.13t") and whether it is free-threaded: threads on a
  // free-threaded CPython have no GIL to wait for. `pyhost`: the build to start (empty: this one).
  std::string python;
  bool free_threaded = false;
  std::string pyhost;
  // Several interpreters in the comparison: labels and series name the python too.
  bool show_python = false;

  std::string label() const;   // "threads -j2", "serial"; "3.13t threads -j2" with show_python
  std::string series() const;  // what one line of a chart is: "threads"; "3.13t threads"
  // The mode's row; throws std::invalid_argument for a name that is no mode.
  const ModeInfo& mode_info() const;
  // The workers take turns on one GIL / there is no GIL at all (the mode, on this CPython).
  bool one_gil() const;
  bool no_gil() const;
  bool operator==(const Config&) const = default;
};

// The baseline mode (always first, one worker) then every other mode at every worker count.
std::vector<Config> plan_configs(const std::vector<std::string>& modes,
                                 const std::vector<int>& workers, int tasks);

// One CPython of a side-by-side comparison (`compare --python`).
struct PlannedInterpreter {
  std::string name;  // "3.13", "3.13t"
  bool free_threaded = false;
  std::string pyhost;  // the build that embeds it (empty: this one)
};

// `compare --python A,B,...`: the baseline on each interpreter (the first one's is every
// speedup's baseline; the others' give each interpreter's one-thread time), then each mode on
// each interpreter at every worker count. `freethreaded` (threads on the default free-threaded
// companion) runs once, from the first interpreter's build, as `companion` (an empty name: there
// is none, and the run says why); it is left out, with a line in `skipped`, when `threads` runs
// on a listed free-threaded interpreter anyway.
std::vector<Config> plan_configs(const std::vector<PlannedInterpreter>& interpreters,
                                 const std::optional<PlannedInterpreter>& companion,
                                 const std::vector<std::string>& modes,
                                 const std::vector<int>& workers, int tasks,
                                 std::vector<std::string>* skipped = nullptr);

struct Step {
  std::size_t config = 0;  // index into the configs
  bool warmup = false;
  int repeat = 0;  // 0-based, within warmups or measured runs
};
// Warmups first, then the measured runs, each round going through every configuration in turn
// (ABCABC...), so that slow drift of the machine affects all of them alike.
std::vector<Step> schedule(std::size_t configs, int repeat, int warmup);

// ---- Results --------------------------------------------------------------------------------

struct TimelineEntry {
  int task = 0, worker = 0;
  double start_s = 0, end_s = 0;
  std::optional<double> gil_held_s, gil_wait_s, off_cpu_s;
};

struct ConfigResult {
  Config config;
  std::vector<double> runs_s;  // wall of each measured run
  stats::Summary wall;
  std::optional<double> speedup, speedup_err, efficiency, karp_flatt;
  double cpu_util = 0;  // median over runs
  // Share of worker threads' time waiting for the GIL; null for serial/processes. From the GIL
  // sampler where every run has it (gil_sampled), else the off-CPU share below.
  std::optional<double> gil_wait;
  bool gil_sampled = false;
  std::optional<double> gil_held;         // share of worker time holding the GIL (sampled)
  std::optional<double> gil_switch_rate;  // GIL switches per second (median over runs)
  double off_cpu = 0;                     // the same measure, for every mode (median over runs)
  double runq = 0;                        // run-queue share of the tasks' wall (median over runs)
  std::optional<double> peak_rss_mb;      // max over runs
  // What one worker costs in memory: a worker process's peak RSS (processes), or in-process
  // modes' peak RSS over the serial baseline's, per worker (set by finish(); none for serial).
  std::optional<double> rss_per_worker_mb;
  std::optional<double> worker_process_rss_mb;  // processes: median over runs of the largest
  double startup_s = 0;           // median over runs of the time until the last worker was ready
  double task_s = 0;              // median over runs of the span of the tasks
  double cpu_share = 0;           // median over runs of cpu_share(run)
  double runnable = 0;            // median over runs of runnable_parallelism(run)
  bool runq_measured = false;     // some run reported run-queue delays
  double concurrency = 0;         // tasks in flight on average (timeline of the median run)
  double overlapped = 0;          // median share of the busy time with two tasks in flight
  bool no_parallel_work = false;  // set by finish()
  std::string no_parallel_reason;
  std::size_t timeline_run = 0;  // which run the timeline shows (closest to the median)
  std::vector<TimelineEntry> timeline;
  std::vector<double> worker_startup_s;           // of that run
  std::vector<gil::WorkerTimeline> gil_timeline;  // that run's GIL segments (empty: none)
  std::optional<long> gil_switches;               // that run's GIL switches
  std::string gil_source, gil_note;
  std::string gil_enabled_by;  // freethreaded: a module made CPython turn the GIL back on
  std::vector<std::string> warnings;
};

struct Comparison {
  std::string python;
  std::vector<std::string> interpreters;  // `compare --python`'s names, in order (else empty)
  int cores = 1;
  std::string script;
  std::vector<std::string> args;
  int tasks = 1;
  int repeat = 1, warmup = 0;
  std::vector<ConfigResult> results;
  std::map<std::string, double> amdahl_serial_fraction;  // per mode, fitted from its speedups
  std::vector<std::string> warnings;                     // about the whole comparison
  std::vector<std::string> explanations;                 // one line per mode
  std::vector<std::string> verdicts;                     // "X ran N ± e times faster than Y"

  const ConfigResult* baseline() const;  // serial, if measured
};

// The measures of one configuration that do not need the baseline.
ConfigResult analyse(const Config& config, const std::vector<RunResult>& runs);
// Speedups against serial, Amdahl fits, "no parallel work", warnings, explanations, verdicts.
//
// A configuration with two workers or more "did no parallel work" when its tasks never
// overlapped in time (the timeline), or when the work is CPU-bound (serial tasks on a CPU 80 %
// of the time they could run) and its tasks, though in flight together, took turns: at most 1.2
// of them running or ready to run on average (one GIL, or one lock, held in turn). The second
// test needs the run-queue delay: where a mode does not report it and the machine was busy, it
// is not made.
void finish(Comparison& comparison);

// ---- Driving the measurements ---------------------------------------------------------------

struct RunOutcome {
  enum class Kind { Ok, Failed, Unavailable };
  Kind kind = Kind::Ok;
  RunResult sample;     // Ok (and Failed, when the child wrote its JSON)
  std::string message;  // Failed / Unavailable: what went wrong, with the task's stderr
};

using Runner = std::function<RunOutcome(const Config&)>;
using Progress =
    std::function<void(const Config&, const Step&, std::size_t done, std::size_t total)>;

struct DriveResult {
  bool ok = true;
  std::string failed_config;  // label of the configuration that failed
  std::string message;
  std::vector<std::pair<Config, std::vector<RunResult>>> runs;  // measured runs per config
  std::vector<std::string> skipped;  // warnings about modes left out (not available)
};

// Runs the schedule through `runner`. A mode the runner says is unavailable is dropped (all its
// configurations) with a warning; any failed run stops everything.
DriveResult drive(const std::vector<Config>& configs, int repeat, int warmup, const Runner& runner,
                  const Progress& progress = {});

// The window of `length` seconds a detail view of r's timeline shows: around the middle of the
// time all its workers had a task in flight (else of its tasks' span). {start, end}.
std::pair<double, double> detail_window(const ConfigResult& r, double length);

// ---- Writers --------------------------------------------------------------------------------

struct TableOptions {
  bool color = false;
};
std::string render_terminal(const Comparison& comparison, const TableOptions& options = {});
// The terminal's GIL timelines: per mode (its widest configuration, where sampled) one line per
// worker, the whole run then `detail_s` of it, `width` columns each ('█' holding, '░' waiting,
// blank off-CPU, '.' no task). Empty where nothing was sampled.
std::string render_gil_text(const Comparison& comparison, int width = 60, double detail_s = 0.05);
std::string render_csv(const Comparison& comparison);
std::string render_markdown(const Comparison& comparison);
nlohmann::json to_json(const Comparison& comparison);
std::string render_html(const Comparison& comparison);

}  // namespace pyhost::compare
