// The execution modes: one table that says what each mode is. The CLI validates --mode against
// it, `pyhost compare` takes its baseline, explanations and colours from it, batch checks job
// files with it, and pyhost::run() picks the engine that runs a plan from it. A new mode is a
// new row here (and, when no engine fits, one new engine file in host/modes/).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pyhost {

// How the tasks of a mode are run (host/modes/*_engine.cpp).
enum class Engine {
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
  Engine engine;
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
  bool gil_wait_measurable() const { return engine == Engine::InProcess && !baseline; }
  // Whether compare reports a GIL wait for the mode (0 where there is no GIL).
  bool gil_wait_reported() const { return gil_wait_measurable() || no_gil; }
  int default_workers(int cores) const { return default_all_cores ? cores : 1; }
};

// Every mode, in the order help, compare and reports list them.
std::span<const ModeInfo> all_modes();
// nullptr for a name that is no mode.
const ModeInfo* find_mode(std::string_view name);
// "serial, threads, subinterpreters, processes" (for messages).
std::string mode_names();
// The baseline mode (serial).
const ModeInfo& baseline_mode();

}  // namespace pyhost
