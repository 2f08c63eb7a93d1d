// Runs tasks in the interpreter whose GIL the calling thread holds, through pyhost._host.
#pragma once

#include <chrono>

#include "output/output_mux.hpp"
#include "pyhost/py_ref.hpp"
#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost {

struct InterpreterRole {
  bool capture = false;             // route sys.stdout/sys.stderr per task
  bool passthrough = false;         // ... and echo them untagged (single task)
  bool shared_interpreter = false;  // several tasks at once in this interpreter (threads)
  bool per_task_cleanup = false;    // join threads / run atexit at each task's end
};

InterpreterRole role_for(const RunPlan& plan, const ModeInfo& mode);

class TaskRunner {
 public:
  // Imports and configures pyhost._host in the current interpreter. Throws PythonError.
  TaskRunner(const RunPlan& plan, const InterpreterRole& role);
  // Ends the worker's watcher thread in this interpreter. GIL held, on the worker's thread.
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // Runs task `task` as worker `worker`; its output goes to `mux`, its timings are measured on
  // this thread relative to `run_start`.
  TaskResult run(int task, int worker, std::chrono::steady_clock::time_point run_start,
                 OutputMux& mux);

 private:
  const RunPlan& plan_;
  PyRef run_task_, worker_done_;
  PyRef kind_, target_, args_;
};

// CPU time of the calling thread, and its run-queue delay from /proc/thread-self/schedstat.
double thread_cpu_seconds();
double thread_runqueue_seconds();

}  // namespace pyhost
