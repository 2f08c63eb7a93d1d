#include "embed/task_watch.hpp"

#include "embed/attached_lock.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace pyhost {
namespace {

using Clock = std::chrono::steady_clock;

struct Watcher {
  std::condition_variable changed;  // the watcher thread waits here
  bool closed = false;
  bool armed = false;
  std::uint64_t generation = 0;  // counts armings: one firing per arming at most
  std::uint64_t handled = 0;     // the last generation the watcher thread returned for
  std::optional<Clock::time_point> deadline;
  unsigned long target = 0;  // the thread that runs the armed task
  int fired = 0;             // StopReason the exception was raised for, 0 if none
};

// All watchers of the process (every interpreter's), under one mutex: arming and disarming take
// it once each per task, briefly.
struct Watchers {
  std::mutex mutex;
  std::map<long long, std::shared_ptr<Watcher>> by_handle;
  long long next_handle = 1;
  std::atomic<int> stop{static_cast<int>(StopReason::None)};
};

Watchers& watchers() {
  static Watchers* state = new Watchers();  // never destroyed: threads may outlive main()
  return *state;
}

bool parse_args(PyObject* const* args, Py_ssize_t nargs, Py_ssize_t expected, long long& handle) {
  if (nargs != expected) {
    PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", expected, nargs);
    return false;
  }
  handle = PyLong_AsLongLong(args[0]);
  return !(handle == -1 && PyErr_Occurred());
}

std::shared_ptr<Watcher> find(Watchers& state, long long handle) {
  auto it = state.by_handle.find(handle);
  return it == state.by_handle.end() ? nullptr : it->second;
}

}  // namespace

void stop_all_tasks(StopReason reason) {
  Watchers& state = watchers();
  std::lock_guard lock(state.mutex);
  state.stop.store(static_cast<int>(reason));
  for (auto& [handle, watcher] : state.by_handle) watcher->changed.notify_all();
}

void reset_task_stops() {
  watchers().stop.store(static_cast<int>(StopReason::None));
}

StopReason task_stop_requested() {
  return static_cast<StopReason>(watchers().stop.load());
}

// watcher_new() -> handle.
PyObject* py_watcher_new(PyObject*, PyObject* const*, Py_ssize_t nargs) {
  if (nargs != 0) {
    PyErr_SetString(PyExc_TypeError, "watcher_new()");
    return nullptr;
  }
  Watchers& state = watchers();
  auto lock = lock_attached(state.mutex);
  const long long handle = state.next_handle++;
  state.by_handle.emplace(handle, std::make_shared<Watcher>());
  return PyLong_FromLongLong(handle);
}

// watcher_wait(handle) -> (reason, generation): blocks with the GIL released until the armed
// task's deadline passes or the host stops every task (each arming is returned once), or the
// watcher is closed (reason 1: the watcher thread ends).
PyObject* py_watcher_wait(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_args(args, nargs, 1, handle)) return nullptr;
  StopReason reason = StopReason::None;
  std::uint64_t generation = 0;
  Watchers& state = watchers();
  Py_BEGIN_ALLOW_THREADS
      // The mutex is released before the GIL is taken back: arm/disarm/fire take the mutex
      // while holding the GIL.
      std::unique_lock lock(state.mutex);
  std::shared_ptr<Watcher> watcher = find(state, handle);
  while (reason == StopReason::None) {
    if (!watcher || watcher->closed) {
      reason = StopReason::Cancelled;
      break;
    }
    const bool pending = watcher->armed && watcher->generation != watcher->handled;
    if (pending && state.stop.load() != 0) {
      reason = static_cast<StopReason>(state.stop.load());
    } else if (pending && watcher->deadline && Clock::now() >= *watcher->deadline) {
      reason = StopReason::Deadline;
    } else if (pending && watcher->deadline) {
      const Clock::time_point deadline = *watcher->deadline;  // arm() may reset it meanwhile
      watcher->changed.wait_until(lock, deadline);
      continue;
    } else {
      watcher->changed.wait(lock);
      continue;
    }
    generation = watcher->generation;
    watcher->handled = generation;
  }
  lock.unlock();
  Py_END_ALLOW_THREADS return Py_BuildValue("(iK)", static_cast<int>(reason),
                                            static_cast<unsigned long long>(generation));
}

// watcher_fire(handle, generation, reason, exc_type) -> bool: raises exc_type in the armed
// task's thread, unless that arming already ended (the task finished first).
PyObject* py_watcher_fire(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_args(args, nargs, 4, handle)) return nullptr;
  const unsigned long long generation = PyLong_AsUnsignedLongLong(args[1]);
  const long reason = PyLong_AsLong(args[2]);
  if (PyErr_Occurred()) return nullptr;
  Watchers& state = watchers();
  auto lock = lock_attached(state.mutex);
  std::shared_ptr<Watcher> watcher = find(state, handle);
  if (!watcher || !watcher->armed || watcher->generation != generation || watcher->fired)
    Py_RETURN_FALSE;
  watcher->fired = static_cast<int>(reason);
  PyThreadState_SetAsyncExc(watcher->target, args[3]);
  Py_RETURN_TRUE;
}

// watcher_arm(handle, thread_id, timeout_s): the task on that thread starts; timeout_s <= 0:
// no deadline. Only a deadline (or a stop already requested) wakes the watcher thread.
PyObject* py_watcher_arm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_args(args, nargs, 3, handle)) return nullptr;
  const unsigned long target = PyLong_AsUnsignedLong(args[1]);
  const double timeout = PyFloat_AsDouble(args[2]);
  if (PyErr_Occurred()) return nullptr;
  Watchers& state = watchers();
  auto lock = lock_attached(state.mutex);
  std::shared_ptr<Watcher> watcher = find(state, handle);
  if (!watcher) {
    PyErr_SetString(PyExc_ValueError, "no such watcher");
    return nullptr;
  }
  watcher->armed = true;
  ++watcher->generation;
  watcher->target = target;
  watcher->fired = 0;
  watcher->deadline.reset();
  if (timeout > 0)
    watcher->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout));
  if (watcher->deadline || state.stop.load() != 0) watcher->changed.notify_all();
  Py_RETURN_NONE;
}

// watcher_disarm(handle) -> reason: the task ended; returns the StopReason it was stopped for (0
// if none). A fired exception not yet delivered is withdrawn, so that it cannot land in the code
// that runs after the task.
PyObject* py_watcher_disarm(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_args(args, nargs, 1, handle)) return nullptr;
  Watchers& state = watchers();
  int fired = 0;
  {
    auto lock = lock_attached(state.mutex);
    if (std::shared_ptr<Watcher> watcher = find(state, handle)) {
      fired = watcher->fired;
      if (fired) PyThreadState_SetAsyncExc(watcher->target, nullptr);
      watcher->armed = false;
      watcher->fired = 0;
    }
  }
  return PyLong_FromLong(fired);
}

// watcher_close(handle): the watcher thread returns from watcher_wait with reason 1 and ends.
PyObject* py_watcher_close(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_args(args, nargs, 1, handle)) return nullptr;
  Watchers& state = watchers();
  auto lock = lock_attached(state.mutex);
  if (std::shared_ptr<Watcher> watcher = find(state, handle)) {
    watcher->closed = true;
    watcher->changed.notify_all();
    state.by_handle.erase(handle);
  }
  Py_RETURN_NONE;
}

}  // namespace pyhost
