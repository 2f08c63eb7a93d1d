// Watches that stop a running task: a per-task deadline (--timeout) and host-wide interrupts
// (Ctrl-C, SIGTERM). A watcher thread inside the task's own interpreter waits on its watch and,
// when it ends for a reason other than cancellation, raises the exception in the task's thread
// (PyThreadState_SetAsyncExc), so the stop is delivered by the interpreter that runs the task.
#pragma once

#include <Python.h>

namespace pyhost {

enum class StopReason : int { None = 0, Cancelled = 1, Deadline = 2, Interrupt = 3, Terminate = 4 };

// Ends every watch (now and until reset): running tasks get KeyboardInterrupt (Interrupt) or
// SystemExit(143) (Terminate). Not async-signal-safe: call it from a normal thread.
void stop_all_tasks(StopReason reason);
void reset_task_stops();
StopReason task_stop_requested();

// The `_pyhost` functions over watches (GIL held when called).
PyObject* py_watch_new(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watch_wait(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watch_fire(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watch_cancel(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

}  // namespace pyhost
