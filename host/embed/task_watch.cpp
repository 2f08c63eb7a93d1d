#include "embed/task_watch.hpp"

#include "embed/attached_lock.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>

namespace pyhost {
namespace {

using Clock = std::chrono::steady_clock;

struct Watch {
  std::optional<Clock::time_point> deadline;
  bool cancelled = false;
  bool fired = false;
  unsigned long thread_id = 0;  // thread the exception was fired at
};

struct Watches {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<long long, Watch> by_handle;
  long long next_handle = 1;
  std::atomic<int> stop{static_cast<int>(StopReason::None)};
};

Watches& watches() {
  static Watches* state = new Watches();  // never destroyed: threads may outlive main()
  return *state;
}

bool parse_handle(PyObject* const* args, Py_ssize_t nargs, Py_ssize_t expected, long long& handle) {
  if (nargs != expected) {
    PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", expected, nargs);
    return false;
  }
  handle = PyLong_AsLongLong(args[0]);
  return !(handle == -1 && PyErr_Occurred());
}

}  // namespace

void stop_all_tasks(StopReason reason) {
  Watches& state = watches();
  {
    std::lock_guard lock(state.mutex);
    state.stop.store(static_cast<int>(reason));
  }
  state.changed.notify_all();
}

void reset_task_stops() {
  watches().stop.store(static_cast<int>(StopReason::None));
}

StopReason task_stop_requested() {
  return static_cast<StopReason>(watches().stop.load());
}

// watch_new(timeout_s) -> handle; timeout_s <= 0: no deadline.
PyObject* py_watch_new(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 1) {
    PyErr_SetString(PyExc_TypeError, "watch_new(timeout_s)");
    return nullptr;
  }
  double timeout = PyFloat_AsDouble(args[0]);
  if (timeout == -1.0 && PyErr_Occurred()) return nullptr;
  Watches& state = watches();
  Watch watch;
  if (timeout > 0)
    watch.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(timeout));
  long long handle = 0;
  {
    auto lock = lock_attached(state.mutex);
    handle = state.next_handle++;
    state.by_handle.emplace(handle, watch);
  }
  return PyLong_FromLongLong(handle);
}

// watch_wait(handle) -> reason (StopReason as int). Blocks detached (GIL released).
PyObject* py_watch_wait(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_handle(args, nargs, 1, handle)) return nullptr;
  StopReason reason = StopReason::None;
  Watches& state = watches();
  Py_BEGIN_ALLOW_THREADS
      // The mutex must be released before the thread attaches again (lock_attached).
      std::unique_lock lock(state.mutex);
  while (reason == StopReason::None) {
    auto it = state.by_handle.find(handle);
    if (it == state.by_handle.end() || it->second.cancelled) {
      reason = StopReason::Cancelled;
    } else if (int stop = state.stop.load(); stop != 0) {
      reason = static_cast<StopReason>(stop);
    } else if (it->second.deadline && Clock::now() >= *it->second.deadline) {
      reason = StopReason::Deadline;
    } else if (it->second.deadline) {
      state.changed.wait_until(lock, *it->second.deadline);
    } else {
      state.changed.wait(lock);
    }
  }
  lock.unlock();
  Py_END_ALLOW_THREADS return PyLong_FromLong(static_cast<long>(reason));
}

// watch_fire(handle, thread_id, exception_type) -> bool: raises the exception in that thread
// unless the watch was cancelled first (the task already finished).
PyObject* py_watch_fire(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_handle(args, nargs, 3, handle)) return nullptr;
  unsigned long thread_id = PyLong_AsUnsignedLong(args[1]);
  if (PyErr_Occurred()) return nullptr;
  Watches& state = watches();
  // Under the mutex, so that watch_cancel either sees it fired (and withdraws it) or prevents it.
  auto lock = lock_attached(state.mutex);
  auto it = state.by_handle.find(handle);
  if (it == state.by_handle.end() || it->second.cancelled || it->second.fired) Py_RETURN_FALSE;
  it->second.fired = true;
  it->second.thread_id = thread_id;
  PyThreadState_SetAsyncExc(thread_id, args[2]);
  Py_RETURN_TRUE;
}

// watch_cancel(handle) -> bool fired: ends the watch; a fired exception not yet delivered to its
// thread is withdrawn, so it cannot land in the code that runs after the task.
PyObject* py_watch_cancel(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  long long handle = 0;
  if (!parse_handle(args, nargs, 1, handle)) return nullptr;
  Watches& state = watches();
  bool fired = false;
  {
    auto lock = lock_attached(state.mutex);
    auto it = state.by_handle.find(handle);
    if (it != state.by_handle.end()) {
      fired = it->second.fired;
      if (fired) PyThreadState_SetAsyncExc(it->second.thread_id, nullptr);
      state.by_handle.erase(it);
    }
  }
  state.changed.notify_all();
  return PyBool_FromLong(fired);
}

}  // namespace pyhost
