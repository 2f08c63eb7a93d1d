// Stopping a running task: a per-task deadline (--timeout) and host-wide interrupts (Ctrl-C,
// SIGTERM). Each worker thread has one watcher: a thread of the task's own interpreter, started
// once and reused for every task the worker runs. A task arms its worker's watcher when it starts
// and disarms it when it ends (no thread start, and no wake-up of the watcher unless the task has
// a deadline); when an armed watcher's deadline passes or the host stops every task, the watcher
// thread raises the exception in the task's thread (PyThreadState_SetAsyncExc), so that the
// interpreter that runs the task delivers it.
#pragma once

#include <Python.h>

namespace pyhost {

enum class StopReason : int { None = 0, Cancelled = 1, Deadline = 2, Interrupt = 3, Terminate = 4 };

// Stops every armed task (now and until reset): KeyboardInterrupt for Interrupt and Terminate.
// Not async-signal-safe: call it from a normal thread.
void stop_all_tasks(StopReason reason);
void reset_task_stops();
StopReason task_stop_requested();

// The `_pyhost` functions over watchers (GIL held when called).
PyObject* py_watcher_new(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watcher_wait(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watcher_fire(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watcher_arm(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watcher_disarm(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_watcher_close(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

}  // namespace pyhost
