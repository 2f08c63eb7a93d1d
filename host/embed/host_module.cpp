#include "embed/host_module.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <string_view>

#include "embed/executor_functions.hpp"
#include "embed/fastcall.hpp"
#include "embed/task_watch.hpp"
#include "output/output_mux.hpp"
#include "pyhost/py_ref.hpp"

namespace pyhost {
namespace {

std::atomic<OutputMux*> g_output_sink{nullptr};

// _pyhost.write(task_id: int, stream: int, text: str) -> None
PyObject* host_write(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "write(task_id, stream, text) takes 3 arguments");
    return nullptr;
  }
  int task = static_cast<int>(PyLong_AsLong(args[0]));
  int stream = static_cast<int>(PyLong_AsLong(args[1]));
  if (PyErr_Occurred()) return nullptr;
  if (stream != 1 && stream != 2) {
    PyErr_SetString(PyExc_ValueError, "stream must be 1 (stdout) or 2 (stderr)");
    return nullptr;
  }
  // surrogateescape gives back the exact bytes of undecodable input, as python's stdio does.
  PyRef bytes = PyRef::steal(PyUnicode_AsEncodedString(args[2], "utf-8", "surrogateescape"));
  if (!bytes) {
    PyErr_Clear();
    bytes = PyRef::steal(PyUnicode_AsEncodedString(args[2], "utf-8", "backslashreplace"));
    if (!bytes) return nullptr;
  }
  std::string_view data(PyBytes_AS_STRING(bytes.get()),
                        static_cast<std::size_t>(PyBytes_GET_SIZE(bytes.get())));
  const StreamId id = stream == 1 ? StreamId::Out : StreamId::Err;
  bool read = true;
  // Writing may block on a full pipe: never do that holding the GIL.
  Py_BEGIN_ALLOW_THREADS if (OutputMux* sink = g_output_sink.load(std::memory_order_acquire)) {
    read = sink->write(task, id, data);
  }
  else {
    read = write_fully(stream, data);
  }
  Py_END_ALLOW_THREADS if (!read) {
    // Nobody reads this stream any more: the task gets what python's own streams raise.
    errno = EPIPE;
    return PyErr_SetFromErrno(PyExc_OSError);  // BrokenPipeError
  }
  Py_RETURN_NONE;
}

// block_signals(): the calling thread stops taking SIGINT/SIGTERM, so that they reach the thread
// that runs the task (where Python turns them into KeyboardInterrupt and interrupts sleeps).
PyObject* host_block_signals(PyObject*, PyObject* const*, Py_ssize_t) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Py_RETURN_NONE;
}

PyMethodDef host_methods[] = {
    {"write", fastcall(&host_write), METH_FASTCALL,
     "write(task_id, stream, text): task output to the host."},
    {"block_signals", fastcall(&host_block_signals), METH_FASTCALL,
     "block_signals(): this thread no longer takes SIGINT/SIGTERM."},
    {"watcher_new", fastcall(&py_watcher_new), METH_FASTCALL,
     "watcher_new() -> handle: a watcher for the tasks of one worker thread."},
    {"watcher_wait", fastcall(&py_watcher_wait), METH_FASTCALL,
     "watcher_wait(handle) -> (reason, generation): 1 closed, 2 deadline, 3 interrupt, "
     "4 terminate."},
    {"watcher_fire", fastcall(&py_watcher_fire), METH_FASTCALL,
     "watcher_fire(handle, generation, reason, exc_type) -> bool: raise exc_type in the task."},
    {"watcher_arm", fastcall(&py_watcher_arm), METH_FASTCALL,
     "watcher_arm(handle, thread_id, timeout_s): a task starts on that thread."},
    {"watcher_disarm", fastcall(&py_watcher_disarm), METH_FASTCALL,
     "watcher_disarm(handle) -> reason the task was stopped for (0: it was not)."},
    {"watcher_close", fastcall(&py_watcher_close), METH_FASTCALL,
     "watcher_close(handle): end the watcher thread."},
    {nullptr, nullptr, 0, nullptr},
};

// The executor's functions live in their own files and tables.
int add_executor_functions(PyObject* module) {
  if (PyModule_AddFunctions(module, channel_methods) != 0) return -1;
  if (PyModule_AddFunctions(module, mpi_methods) != 0) return -1;
  return PyModule_AddFunctions(module, interpreter_thread_methods);
}

PyModuleDef_Slot host_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(&add_executor_functions)},
#if PY_VERSION_HEX >= 0x030C0000
    // No per-module state at all, so every interpreter, own GIL or not, may import it.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    // Free-threaded CPython (3.13t): importing it must not turn the GIL back on. Its code holds
    // no Python state between calls and guards its own with mutexes (see attached_lock.hpp).
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT,
    "_pyhost",
    "Host side of the pyhost runtime.",
    0,
    host_methods,
    host_slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace

void set_output_sink(OutputMux* mux) {
  g_output_sink.store(mux, std::memory_order_release);
}

}  // namespace pyhost

extern "C" PyObject* PyInit__pyhost() {
  return PyModuleDef_Init(&pyhost::host_module);
}
