// RAII over thread states and the GIL. Rules they enforce (from CPython issues that crashed hosts):
// one thread state per (OS thread, interpreter), created on the thread that uses it, and no
// PyGILState_* anywhere, because it only knows about the main interpreter.
#pragma once

#include <Python.h>

namespace pyhost {

// A thread state for the calling OS thread in `interp`, created detached (GIL not held).
// Must be destroyed on the same thread, while not attached.
class ThreadState {
 public:
  explicit ThreadState(PyInterpreterState* interp);
  ~ThreadState();
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;

  PyThreadState* get() const { return tstate_; }

 private:
  PyThreadState* tstate_;
};

// Holds `tstate`'s interpreter GIL for the scope (PyEval_RestoreThread / PyEval_SaveThread).
class GilHold {
 public:
  explicit GilHold(PyThreadState* tstate) : tstate_(tstate) { PyEval_RestoreThread(tstate_); }
  ~GilHold() { PyEval_SaveThread(); }
  GilHold(const GilHold&) = delete;
  GilHold& operator=(const GilHold&) = delete;

 private:
  PyThreadState* tstate_;
};

// Releases the GIL the current thread holds for the scope (blocking waits, joins).
class GilRelease {
 public:
  GilRelease() : saved_(PyEval_SaveThread()) {}
  ~GilRelease() { PyEval_RestoreThread(saved_); }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;

 private:
  PyThreadState* saved_;
};

}  // namespace pyhost
