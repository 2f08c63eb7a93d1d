// Running a script as K tasks over N workers in one of the execution modes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyhost/output_mux.hpp"
#include "pyhost/results.hpp"

namespace pyhost {

class PythonRuntime;

enum class Mode { Serial, Threads, Subinterpreters, Processes };

std::optional<Mode> parse_mode(std::string_view name);
std::string_view to_string(Mode mode);

// What each task runs: like python's SCRIPT, -m MODULE or -c CODE, followed by its arguments.
struct TaskTarget {
  enum class Kind { Script, Module, Code };
  Kind kind = Kind::Script;
  std::string value;
  std::vector<std::string> args;
};

std::string_view to_string(TaskTarget::Kind kind);

struct RunPlan {
  Mode mode = Mode::Serial;
  int workers = 1;
  int tasks = 1;
  TaskTarget target;
  OutputStyle output = OutputStyle::Prefixed;
  bool record_output = false;  // keep each task's stdout/stderr in the result (--json)
  double timeout_s = 0;        // per task; 0: none. TimeoutError raised in the task at the deadline
  double kill_after_s = 2.0;   // then, still running: worker killed (processes) or abandoned
  long memory_limit_mb = 0;    // per worker process (processes mode); 0: none
  bool fresh_workers = false;  // processes mode: a new worker process for every task

  // One task in serial mode runs exactly like `python`: the real sys.stdout/sys.stderr.
  bool is_plain_python() const { return mode == Mode::Serial && tasks == 1; }
};

// Runs the plan in this process (serial, threads, subinterpreters). Called on the thread that
// created `runtime`, holding the main GIL; returns holding it.
RunResult run_in_process(PythonRuntime& runtime, const RunPlan& plan);

}  // namespace pyhost
