#include "worker/task_runner.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>

#include "pyhost/python_error.hpp"
#include "pyhost/thread_state.hpp"

namespace pyhost {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

PyRef unicode(const std::string& text) {
  PyRef obj = PyRef::steal(
      PyUnicode_DecodeFSDefaultAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
  if (!obj) throw_python_error("pyhost: cannot convert an argument");
  return obj;
}

}  // namespace

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

namespace {

// This thread's /proc/thread-self/schedstat, opened once per thread and read with pread at every
// task's start and end (opening it anew each time was a good part of a short task's cost).
class SchedStat {
 public:
  SchedStat() : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}
  ~SchedStat() {
    if (fd_ >= 0) ::close(fd_);
  }
  // "<on-cpu ns> <run-queue wait ns> <timeslices>"; absent without CONFIG_SCHEDSTATS.
  double runqueue_seconds() const {
    char text[128];
    const ssize_t n = fd_ >= 0 ? ::pread(fd_, text, sizeof text - 1, 0) : -1;
    if (n <= 0) return 0;
    text[n] = '\0';
    char* end = nullptr;
    std::strtoull(text, &end, 10);  // on-CPU time: the thread's CPU clock says it already
    if (end == text) return 0;
    return static_cast<double>(std::strtoull(end, nullptr, 10)) * 1e-9;
  }

 private:
  int fd_;
};

}  // namespace

double thread_runqueue_seconds() {
  thread_local const SchedStat schedstat;
  return schedstat.runqueue_seconds();
}

InterpreterRole role_for(const RunPlan& plan, const ModeInfo& mode) {
  InterpreterRole role;
  role.capture = !plan.is_plain_python() || plan.record_output;
  role.passthrough = plan.is_plain_python();
  role.shared_interpreter = mode.interpreter == WorkerInterpreter::Main && !mode.single_worker;
  role.per_task_cleanup = !plan.is_plain_python();
  return role;
}

TaskRunner::TaskRunner(const RunPlan& plan, const InterpreterRole& role) : plan_(plan) {
  PyRef module = PyRef::steal(PyImport_ImportModule("pyhost._host"));
  if (!module) throw_python_error("pyhost: cannot import the pyhost runtime (pyhost._host)");
  PyRef configured = PyRef::steal(
      PyObject_CallMethod(module.get(), "configure", "siiiiii", plan.mode.c_str(), plan.workers,
                          plan.tasks, int(role.capture), int(role.passthrough),
                          int(role.shared_interpreter), int(role.per_task_cleanup)));
  if (!configured) throw_python_error("pyhost: cannot configure the pyhost runtime");
  run_task_ = PyRef::steal(PyObject_GetAttrString(module.get(), "run_task"));
  if (!run_task_) throw_python_error("pyhost: pyhost._host.run_task is missing");
  worker_done_ = PyRef::steal(PyObject_GetAttrString(module.get(), "worker_done"));
  if (!worker_done_) throw_python_error("pyhost: pyhost._host.worker_done is missing");

  kind_ = PyRef::steal(PyUnicode_FromString(std::string(to_string(plan.target.kind)).c_str()));
  target_ = unicode(plan.target.value);
  args_ = PyRef::steal(PyList_New(0));
  if (!kind_ || !args_) throw_python_error("pyhost: out of memory");
  for (const auto& arg : plan.target.args) {
    PyRef item = unicode(arg);
    if (PyList_Append(args_.get(), item.get()) != 0) throw_python_error("pyhost: argv");
  }
}

TaskRunner::~TaskRunner() {
  PyRef done = PyRef::steal(PyObject_CallNoArgs(worker_done_.get()));
  if (!done) PyErr_WriteUnraisable(worker_done_.get());
}

TaskResult TaskRunner::run(int task, int worker, std::chrono::steady_clock::time_point run_start,
                           OutputMux& mux) {
  TaskResult result;
  result.id = task;
  result.worker = worker;
  const double cpu0 = thread_cpu_seconds();
  const double runq0 = thread_runqueue_seconds();
  result.start_s = seconds_since(run_start);

  // A list per task: the script may mutate sys.argv, which is this list.
  PyRef args = PyRef::steal(PyList_GetSlice(args_.get(), 0, PyList_GET_SIZE(args_.get())));
  PyRef outcome = args ? PyRef::steal(PyObject_CallFunction(run_task_.get(), "OOOiid", kind_.get(),
                                                            target_.get(), args.get(), task, worker,
                                                            plan_.timeout_s))
                       : PyRef();
  int exit_code = 1, reason = 0, tainted = 0;
  if (outcome && PyArg_ParseTuple(outcome.get(), "iip", &exit_code, &reason, &tainted)) {
    result.exit_code = exit_code;
    result.worker_tainted = tainted != 0;
  } else if (PyErr_ExceptionMatches(PyExc_TimeoutError) ||
             PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
    // The stop landed in the runner's own code after the script: it still ended the task.
    reason = PyErr_ExceptionMatches(PyExc_TimeoutError) ? 2 : 3;
    PyErr_Clear();
  } else {
    // The runtime itself failed (not the script): say so on the task's stderr.
    result.error = fetch_python_error("pyhost: internal error running the task");
    mux.write(task, StreamId::Err, result.error + "\n");
  }
  result.status = result.exit_code == 0 ? TaskStatus::Ok : TaskStatus::Failed;
  if (reason == 2) {
    result.status = TaskStatus::Timeout;
    result.error = fmt::format("timed out after {:g} s", plan_.timeout_s);
  } else if (reason == 3 || reason == 4) {
    result.error = "interrupted";
  }
  result.end_s = seconds_since(run_start);
  result.cpu_s = thread_cpu_seconds() - cpu0;
  result.runq_s = thread_runqueue_seconds() - runq0;
  if (mux.holds_output(task)) {
    GilRelease unlocked;  // finishing may write to a full pipe
    mux.finish_task(task);
  }
  return result;
}

}  // namespace pyhost
