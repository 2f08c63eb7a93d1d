// What a run produced: one record per task, the same shape in every mode, and its JSON form
// (what `pyhost run --json` writes and what compare, batch and applications read back).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyhost/gil_timeline.hpp"

namespace pyhost {

enum class TaskStatus { Ok, Failed, Crashed, Timeout };

std::string_view to_string(TaskStatus status);
std::optional<TaskStatus> task_status_from_string(std::string_view text);

struct TaskResult {
  int id = 0;
  int worker = -1;  // -1: never started
  TaskStatus status = TaskStatus::Failed;
  int exit_code = 1;
  double start_s = 0, end_s = 0;  // since the run started
  double cpu_s = 0;               // CPU time of the thread or process that ran the task
  double runq_s = 0;              // time runnable but not running (scheduler run-queue delay)
  long peak_rss_kb = 0;           // processes mode: peak RSS of the worker process so far
  // The task's wall split by the GIL sampler (threads, sub-interpreters): holding its
  // interpreter's GIL, waiting for it, off-CPU without wanting it. Unset where not sampled.
  std::optional<double> gil_held_s, gil_wait_s, off_cpu_s;
  std::string stdout_text, stderr_text;
  bool stdout_truncated = false, stderr_truncated = false;
  std::string error;            // why the host marked it failed/crashed/timeout, if it did
  bool worker_tainted = false;  // left threads running: its worker must not be reused or ended
  int rank = -1;                // --engine mpi: the MPI rank that ran it (-1: not an MPI run)
  std::string host;             // --engine mpi: the host name of that rank

  double wall_s() const { return end_s - start_s; }
};

// Every task of a run, counted as it was settled: what a summary needs when the run does not
// keep every record (RunPlan::keep_records), in memory that does not grow with the task count.
struct TaskTally {
  long tasks = 0;  // every task of the run, recorded or not
  long ok = 0, failed = 0, crashed = 0, timeout = 0;
  double cpu_s = 0;      // summed over the tasks
  long peak_rss_kb = 0;  // the largest of the tasks' peak_rss_kb

  void add(const TaskResult& task);
  // Takes `task` back out (a record replaced afterwards, e.g. by a resumed journal's).
  void remove(const TaskResult& task);
  long not_ok() const { return failed + crashed + timeout; }
};

struct WorkerInfo {
  int id = 0;
  double startup_s = 0;  // until the worker could take its first task
};

// What the GIL sampler saw during a run (in-process modes with worker threads).
using GilWorkerTimeline = gil::WorkerTimeline;
struct GilRecord {
  std::string source;  // "gil": the interpreters' GIL state; "estimate": thread scheduler states
  std::string note;    // why an estimate; how far segments were coalesced
  double period_s = 0;  // mean time between samples
  long samples = 0;
  double cpu_s = 0;            // CPU time the sampler itself took
  long switches = 0;           // GIL switches (holder changes), all interpreters together
  double resolution_s = 0;     // runs shorter than this were coalesced (0: none)
  std::vector<GilWorkerTimeline> workers;
};

struct RunResult {
  std::string mode;
  int workers = 1;
  std::string python;
  double wall_s = 0;
  std::optional<long> peak_rss_kb;
  std::vector<WorkerInfo> worker_info;
  // The records the run kept, in task order: every task's (RunPlan::keep_records All, the
  // default), or only those not ok (Failures). `tally` counts them all either way.
  std::vector<TaskResult> tasks;
  TaskTally tally;
  int abandoned_workers = 0;  // stuck in C code past their timeout: never joined
  int stopped_by_signal = 0;  // SIGINT/SIGTERM that stopped the run, 0 if none
  bool flush_failed = false;  // flushing stdout/stderr when Python was finalised failed
  // freethreaded: the module CPython turned the GIL back on for ("" while it stayed off).
  std::string gil_enabled_by;
  std::optional<GilRecord> gil;  // unset where not sampled (serial plain, processes, disabled)
  int ranks = 0;              // --engine mpi: the MPI ranks of the run (0: not an MPI run)
  int rank = 0;               // --engine mpi: this process's rank; only rank 0 has the tasks

  // Every task ok (by the tally, and by the records kept).
  bool all_ok() const;
  // Tasks of the run: the tally's count, or the records' where no tally was kept.
  long task_count() const;
  // Until the last worker could take a task (0 without workers).
  double startup_s() const;

  // The document of `pyhost run --json`.
  nlohmann::json to_json() const;
  // Reads such a document back (its tally counted from its tasks); throws std::runtime_error naming
  // what is wrong with it.
  static RunResult from_json(const nlohmann::json& doc);
};

nlohmann::json to_json(const TaskResult& task);
// The parts of `run --json` from a GilRecord: "gil_sampling" and "gil_segments" (per worker
// {worker, interpreter, segments: [[start_s, end_s, "held" | "wait" | "off"], ...]}).
nlohmann::json gil_sampling_json(const GilRecord& gil);
nlohmann::json gil_segments_json(const std::vector<GilWorkerTimeline>& workers);
// One task of that document back; throws std::runtime_error or nlohmann::json::exception.
TaskResult task_result_from_json(const nlohmann::json& item);

// Writes `doc` to `path` so that readers never see half a file (temp file, fsync, rename).
void write_json_atomically(const std::string& path, const nlohmann::json& doc);
// Writes `run.to_json()` so, a record at a time: the document of a run of 100 000 tasks (some
// 3 KB a task as JSON values) is never whole in memory.
void write_json_atomically(const std::string& path, const RunResult& run);

// Peak resident set size of this process, in KiB: VmHWM of /proc/self/status, the peak of its own
// memory since it started this program. (getrusage's ru_maxrss carries the RSS it had before
// execve, the parent's when it was vfork'ed: a bench in a 40 MB Python read 40 MB for everything.)
long peak_rss_kb_self();

}  // namespace pyhost
