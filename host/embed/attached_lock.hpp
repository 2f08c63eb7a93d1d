// Taking a std::mutex from a thread attached to an interpreter (GIL held, or on a free-threaded
// build, a thread state attached).
//
// With the GIL, a thread blocked on a mutex while holding the GIL stalls every other Python
// thread; without it (3.13t) it is worse: it can never be paused for a stop-the-world (garbage
// collection, sys._current_frames, ...), so if the mutex's holder waits for one, nothing moves
// again. Like CPython's own PyMutex, lock_attached() only ever waits detached, and only ever
// takes the mutex while attached: the mutex is never held across re-attaching, where the thread
// may be paused. The holder must not block while holding it.
#pragma once

#include <Python.h>

#include <mutex>

namespace pyhost {

template <typename Mutex>
std::unique_lock<Mutex> lock_attached(Mutex& mutex) {
  std::unique_lock lock(mutex, std::try_to_lock);
  while (!lock.owns_lock()) {
    Py_BEGIN_ALLOW_THREADS
    {
      std::lock_guard wait(mutex);  // until its holder lets go, without the GIL / detached
    }
    Py_END_ALLOW_THREADS
    if (lock.try_lock()) break;  // (GCC 16: try_lock is [[nodiscard]])
  }
  return lock;
}

}  // namespace pyhost
