// The execution modes: one table that says what each mode is. The CLI validates --mode against
// it, `pyhost compare` takes its baseline, explanations and colours from it, batch checks job
// files with it, and pyhost::run() picks the backend that runs a plan's tasks from it. A new mode
// is a new row here (and, when no backend fits, one new backend file in host/backends/).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pyhost {

// What runs the tasks of a mode (host/backends/*_backend.cpp). Not to be confused with the
// plan's Engine (pyhost/run.hpp), which says whether the run spans MPI ranks.
enum class Backend {
  InProcess,        // worker threads of this process, each in an interpreter of this process
  WorkerProcesses,  // `pyhost __worker` processes, each embedding its own interpreter
  FreeThreaded,     // threads of a free-threaded interpreter: in this process when it is one
                    // (pyhost-ft), else in the companion binary pyhost-ft
};

// Where a worker of an in-process mode runs Python.
enum class WorkerInterpreter {
  Main,               // the main interpreter (with the other workers, if any)
  OwnSubinterpreter,  // a sub-interpreter of its own, with its own GIL (PEP 684)
  OwnProcess,         // an interpreter in a process of its own
};

struct ModeInfo {
  std::string_view name;
  Backend backend;
  WorkerInterpreter interpreter;
  bool baseline;                 // one task after another: what every speedup is measured against
  bool one_gil;                  // the workers take turns on one GIL (threads)
  bool no_gil;                   // no GIL at all (free-threaded CPython): nothing to wait for
  bool single_worker;            // runs one worker, whatever -j says
  bool default_all_cores;        // default workers: the number of cores (else 1)
  std::string_view what_runs;    // for help and README: what runs the tasks
  std::string_view explanation;  // compare's explanation of what the mode buys, after the speedup
  std::string_view colour;       // of the mode in compare's charts (#rrggbb)

  // Tasks run on threads of this process, so a task's CPU clock and run-queue delay are its
  // thread's, and the time its worker waited for a GIL can be measured.
  bool gil_wait_measurable() const { return backend == Backend::InProcess && !baseline; }
  int default_workers(int cores) const { return default_all_cores ? cores : 1; }
};

// Every mode, in the order help, compare and reports list them.
std::span<const ModeInfo> all_modes();
// nullptr for a name that is no mode.
const ModeInfo* find_mode(std::string_view name);
// "serial, threads, subinterpreters, processes, freethreaded" (for messages).
std::string mode_names();
// The baseline mode (serial).
const ModeInfo& baseline_mode();

}  // namespace pyhost
