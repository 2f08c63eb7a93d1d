#include "embed/host_module.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "embed/executor_functions.hpp"
#include "embed/fastcall.hpp"
#include "embed/task_watch.hpp"
#include "output/output_mux.hpp"
#include "pyhost/py_ref.hpp"
#include "pyhost/thread_state.hpp"

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

// in_subinterpreter() -> bool: the calling interpreter is not the main one.
PyObject* host_in_subinterpreter(PyObject*, PyObject* const*, Py_ssize_t) {
  return PyBool_FromLong(PyInterpreterState_Get() != PyInterpreterState_Main());
}

// interpreter_frames() -> {thread id: frame}: the current frame of each thread of the calling
// interpreter (faulthandler's dump in sub-interpreters). Not sys._current_frames(): CPython 3.13
// walks the threads of every interpreter there and makes frame objects for other interpreters'
// frames with this one's allocator, which their owner later frees ("free(): invalid pointer").
// Threads of this interpreter leave its list only holding its GIL, which the caller holds; the
// collector is off meanwhile, so that no finalizer lets them run.
PyObject* host_interpreter_frames(PyObject*, PyObject* const*, Py_ssize_t) {
  PyRef frames = PyRef::steal(PyDict_New());
  if (!frames) return nullptr;
  const int collector_was_on = PyGC_Disable();
  bool ok = true;
  for (PyThreadState* thread = PyInterpreterState_ThreadHead(PyInterpreterState_Get());
       ok && thread != nullptr; thread = PyThreadState_Next(thread)) {
    PyRef frame = PyRef::steal(reinterpret_cast<PyObject*>(PyThreadState_GetFrame(thread)));
    if (!frame) continue;  // no Python frame on that thread
    PyRef id = PyRef::steal(PyLong_FromUnsignedLong(thread->thread_id));
    ok = id && PyDict_SetItem(frames.get(), id.get(), frame.get()) == 0;
  }
  if (collector_was_on) PyGC_Enable();
  return ok ? frames.release() : nullptr;
}

// What pyhost._faulthandler_main.call() gave in the main interpreter, in plain C++ values: no
// object of one interpreter may be used in another.
struct MainOutcome {
  enum class Kind { None, Bool, Int, Error } kind = Kind::None;
  long long value = 0;
  std::string error_type;
  std::string error_message;
};

// In the main interpreter (attached to it): pyhost._faulthandler_main.call(caller, name, *ints)
MainOutcome call_faulthandler_main(long long caller, const std::string& name,
                                   const std::vector<long long>& ints) {
  MainOutcome outcome;
  PyRef result;
  if (PyRef module = PyRef::steal(PyImport_ImportModule("pyhost._faulthandler_main"))) {
    PyRef call = PyRef::steal(PyObject_GetAttrString(module.get(), "call"));
    PyRef args = PyRef::steal(PyTuple_New(static_cast<Py_ssize_t>(ints.size() + 2)));
    if (call && args) {
      PyTuple_SET_ITEM(args.get(), 0, PyLong_FromLongLong(caller));
      PyTuple_SET_ITEM(
          args.get(), 1,
          PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size())));
      for (std::size_t i = 0; i < ints.size(); ++i)
        PyTuple_SET_ITEM(args.get(), static_cast<Py_ssize_t>(i + 2), PyLong_FromLongLong(ints[i]));
      if (!PyErr_Occurred()) result = PyRef::steal(PyObject_CallObject(call.get(), args.get()));
    }
  }
  if (!result) {
    outcome.kind = MainOutcome::Kind::Error;
    PyObject* type = nullptr;
    PyObject* value = nullptr;
    PyObject* traceback = nullptr;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    outcome.error_type = type ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "RuntimeError";
    if (value) {
      if (PyRef text = PyRef::steal(PyObject_Str(value))) {
        if (const char* utf8 = PyUnicode_AsUTF8(text.get())) outcome.error_message = utf8;
      }
    }
    PyErr_Clear();
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
  } else if (PyBool_Check(result.get())) {
    outcome.kind = MainOutcome::Kind::Bool;
    outcome.value = result.get() == Py_True;
  } else if (PyLong_Check(result.get())) {
    outcome.kind = MainOutcome::Kind::Int;
    outcome.value = PyLong_AsLongLong(result.get());
    PyErr_Clear();
  }
  return outcome;
}

// faulthandler_in_main(name, *ints) -> None | bool | int: the faulthandler stand-in of
// sub-interpreters (pyhost/_faulthandler.py) reaches the process-wide handler, which belongs to
// the main interpreter, through this: it runs pyhost._faulthandler_main.call(caller id, name,
// *ints) there, on this thread (a thread state of its own for the call; the caller's is detached
// meanwhile), and raises the main side's error here. Only ints cross: fds, flags, signals.
PyObject* host_faulthandler_in_main(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1 || !PyUnicode_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "faulthandler_in_main(name, *ints): name must be a str");
    return nullptr;
  }
  const char* name_utf8 = PyUnicode_AsUTF8(args[0]);
  if (name_utf8 == nullptr) return nullptr;
  const std::string name(name_utf8);
  std::vector<long long> ints;
  for (Py_ssize_t i = 1; i < nargs; ++i) {
    ints.push_back(PyLong_AsLongLong(args[i]));
    if (PyErr_Occurred()) return nullptr;
  }
  PyInterpreterState* caller = PyInterpreterState_Get();
  PyInterpreterState* main = PyInterpreterState_Main();
  const long long caller_id = PyInterpreterState_GetID(caller);
  MainOutcome outcome;
  if (caller == main) {
    outcome = call_faulthandler_main(caller_id, name, ints);
  } else {
    try {
      // Destroyed in reverse: main detached, its thread state deleted, the caller attached again.
      GilRelease caller_detached;
      ThreadState in_main(main);
      GilHold main_gil(in_main.get());
      outcome = call_faulthandler_main(caller_id, name, ints);
    } catch (const std::exception& error) {  // no thread state for the main interpreter
      outcome.kind = MainOutcome::Kind::Error;
      outcome.error_type = "RuntimeError";
      outcome.error_message = error.what();
    }
  }
  switch (outcome.kind) {
    case MainOutcome::Kind::None:
      Py_RETURN_NONE;
    case MainOutcome::Kind::Bool:
      return PyBool_FromLong(static_cast<long>(outcome.value));
    case MainOutcome::Kind::Int:
      return PyLong_FromLongLong(outcome.value);
    case MainOutcome::Kind::Error:
      break;
  }
  // The main side's own exception cannot cross: the same builtin type, with its message.
  PyObject* type = PyExc_RuntimeError;
  std::string message = outcome.error_message;
  if (outcome.error_type == "ValueError")
    type = PyExc_ValueError;
  else if (outcome.error_type == "TypeError")
    type = PyExc_TypeError;
  else if (outcome.error_type == "OSError" || outcome.error_type == "FileNotFoundError")
    type = PyExc_OSError;
  else if (outcome.error_type != "RuntimeError")
    message = outcome.error_type + ": " + message;
  PyErr_SetString(type, message.c_str());
  return nullptr;
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
    {"in_subinterpreter", fastcall(&host_in_subinterpreter), METH_FASTCALL,
     "in_subinterpreter() -> bool: the calling interpreter is not the main one."},
    {"interpreter_frames", fastcall(&host_interpreter_frames), METH_FASTCALL,
     "interpreter_frames() -> {thread id: frame} of the calling interpreter's threads."},
    {"faulthandler_in_main", fastcall(&host_faulthandler_in_main), METH_FASTCALL,
     "faulthandler_in_main(name, *ints): pyhost._faulthandler_main.call(caller, name, *ints) "
     "run in the main interpreter."},
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
