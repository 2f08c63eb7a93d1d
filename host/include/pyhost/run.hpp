// Running a script as K tasks over N workers in one execution mode: the plan, and the one entry
// point that runs it. `pyhost run` is a thin layer over this; so is an application that embeds
// libpyhost (see examples/embed/).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pyhost/modes.hpp"
#include "pyhost/results.hpp"
#include "pyhost/sandbox.hpp"

namespace pyhost {

enum class OutputStyle {
  Passthrough,  // one task: bytes go out as written, untagged
  Prefixed,     // lines stream out as they complete, "[task k] " in front
  Grouped,      // a task's lines go out in one block when it finishes
};

// What each task runs: like python's SCRIPT, -m MODULE or -c CODE, followed by its arguments.
struct TaskTarget {
  enum class Kind { Script, Module, Code };
  Kind kind = Kind::Script;
  std::string value;
  std::vector<std::string> args;
};

std::string_view to_string(TaskTarget::Kind kind);

// Which task records RunResult::tasks keeps (RunResult::tally counts every task either way).
enum class KeepRecords {
  All,       // every task's: memory grows with the task count (about 200 bytes a task)
  Failures,  // only tasks not ok (what `pyhost run` prints): memory flat in the task count
};

// Where the tasks run: in this process, by the mode's backend (the table of modes names it), or
// across the ranks of an MPI job (`--engine mpi`), each rank running its share with that backend.
enum class Engine { Local, Mpi };
// How `--engine mpi` hands out tasks: ranks ask rank 0 as they go, or task k goes to rank k mod R.
enum class Schedule { Dynamic, Static };

std::string_view to_string(Engine engine);      // "local", "mpi"
std::string_view to_string(Schedule schedule);  // "dynamic", "static"

// The mode stays a name: modes are rows of a table (pyhost/modes.hpp), so that a new mode is data,
// not a new enumerator every switch must learn.
struct RunPlan {
  std::string mode = "serial";  // a name from all_modes()
  int workers = 0;              // 0: the mode's default (cores, or 1 for serial)
  int tasks = 0;                // 0: as many as workers
  TaskTarget target;
  OutputStyle output = OutputStyle::Prefixed;  // with several tasks
  bool record_output = false;  // keep each task's stdout/stderr in the result (--json)
  bool echo_output = true;     // pass task output on to this process's stdout/stderr
  KeepRecords keep_records = KeepRecords::All;  // `pyhost run`: Failures unless --json
  double timeout_s = 0;        // per task; 0: none. TimeoutError raised in the task at the deadline
  double kill_after_s = 2.0;   // then, still running: worker killed (processes) or abandoned
  long memory_limit_mb = 0;    // per worker process (processes mode); 0: none
  bool fresh_workers = false;  // processes mode: a new worker process for every task
  SandboxPolicy sandbox;       // processes mode: confine each worker (--sandbox)
  Engine engine = Engine::Local;
  Schedule schedule = Schedule::Dynamic;  // --engine mpi only
  std::string journal_path;  // append each finished task to this file (JSON lines, fsync'ed)
  std::string resume_path;   // skip the tasks that are `ok` in this journal

  // The plan with its defaults filled in (workers, tasks) for a machine of `cores` CPUs.
  // Throws PlanError when it cannot run: unknown mode, counts below 1, a script that is missing.
  // (pyhost::run() then checks the plan against what the mode's backend in this build can do.)
  RunPlan resolved(int cores) const;
  // The row of the mode table; throws PlanError for an unknown mode.
  const ModeInfo& mode_info() const;
  // One task of the baseline mode (or of freethreaded: then `python3.13t`), echoed, runs exactly
  // like `python`: on the main thread, the real sys.stdout/sys.stderr, python's signal handling.
  bool is_plain_python() const;
  // How task output leaves the host: one task's as written, several tasks' as chosen.
  OutputStyle effective_output() const { return tasks == 1 ? OutputStyle::Passthrough : output; }
  // Where task output goes: this process's stdout/stderr, or nowhere (echo_output off).
  int echo_fd(int stream_fd) const { return echo_output ? stream_fd : -1; }
  // The words of `pyhost run` that make this plan (after the program name), writing its result
  // to `json_path` when given. Fields left at their defaults are left out.
  std::vector<std::string> to_argv(const std::string& json_path = {}) const;
};

// A plan that cannot run as written (usage error: exit status 2 of `pyhost run`).
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The plan names a mode that this build or machine does not have (exit status 3).
class ModeUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why this build or machine cannot run `mode` (e.g. the free-threaded companion was not built);
// nullopt when it can.
std::optional<std::string> mode_unavailable(const ModeInfo& mode);

// Runs the plan and returns every task's result; task failures are results, not exceptions.
// In-process modes need the embedded CPython: when a PythonRuntime is active in this process,
// call on the thread holding its main GIL (as the thread that constructed it does) and it is
// used and left running; otherwise one is created for the run and finalised after it. A run
// that had to abandon a worker stuck in C code (result.abandoned_workers > 0) leaves Python
// initialised: the process should exit without finalising it (std::_Exit), as `pyhost run` does.
// Throws PlanError, ModeUnavailable, or std::runtime_error when Python cannot be started.
RunResult run(const RunPlan& plan);

}  // namespace pyhost
