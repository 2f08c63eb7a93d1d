// Thread states and own-GIL sub-interpreters: all that starting a worker interpreter needs, kept
// apart from PythonRuntime (interpreter.cpp) so that the `_pyhost_subinterpreters` extension
// (subinterpreters_module.cpp) links it into a plain python's process, where CPython was started
// by python itself and no PythonRuntime exists.
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "embed/attached_lock.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/py_ref.hpp"
#include "pyhost/python_error.hpp"

namespace pyhost {
namespace {

// Sub-interpreter creation and destruction are not thread-safe against each other on 3.12
// (gh-104341 and friends): there they go one at a time. From 3.13 on, workers create their
// interpreters at once (creation imports encodings, site and the like: ~10 ms each), and only
// ending them is serialised.
std::mutex& interpreter_lifecycle_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::atomic<bool> g_made_any{false};

}  // namespace

bool SubInterpreter::any_made() {
  return g_made_any.load(std::memory_order_acquire);
}

void add_runtime_to_sys_path(const std::string& runtime_dir) {
  PyRef path_entry = PyRef::steal(PyUnicode_DecodeFSDefault(runtime_dir.c_str()));
  PyObject* sys_path = PySys_GetObject("path");  // borrowed
  if (!path_entry || sys_path == nullptr || PyList_Append(sys_path, path_entry.get()) != 0)
    throw_python_error("pyhost: cannot add the runtime to sys.path");
}

ThreadState::ThreadState(PyInterpreterState* interp) : tstate_(PyThreadState_New(interp)) {
  if (tstate_ == nullptr) throw std::runtime_error("pyhost: cannot create a Python thread state");
}

ThreadState::~ThreadState() {
  // Clearing runs arbitrary finalizers, so it needs this interpreter's GIL.
  PyEval_RestoreThread(tstate_);
  PyThreadState_Clear(tstate_);
  PyThreadState_DeleteCurrent();
}

bool SubInterpreter::has_own_gil() {
#if PY_VERSION_HEX >= 0x030C0000
  return true;
#else
  return false;
#endif
}

SubInterpreter::SubInterpreter(PyInterpreterState* main, const std::string& runtime_dir) {
  g_made_any.store(true, std::memory_order_release);
  bridge_.emplace(main);
#if PY_VERSION_HEX < 0x030D0000
  std::lock_guard lock(interpreter_lifecycle_mutex());
#endif
  PyEval_RestoreThread(bridge_->get());
#if PY_VERSION_HEX >= 0x030C0000
  PyInterpreterConfig config{};
  config.use_main_obmalloc = 0;
  config.allow_fork = 0;  // fork from a thread of a multi-threaded host is unsafe
  config.allow_exec = 1;  // subprocess works
  config.allow_threads = 1;
  config.allow_daemon_threads = 0;  // they would outlive Py_EndInterpreter
  config.check_multi_interp_extensions = 1;
  config.gil = PyInterpreterConfig_OWN_GIL;
  PyStatus status = Py_NewInterpreterFromConfig(&tstate_, &config);
  if (PyStatus_Exception(status)) {
    PyEval_SaveThread();
    throw std::runtime_error(std::string("pyhost: cannot create a sub-interpreter: ") +
                             (status.err_msg ? status.err_msg : "unknown error"));
  }
#else
  tstate_ = Py_NewInterpreter();
  if (tstate_ == nullptr) {
    PyEval_SaveThread();
    throw std::runtime_error("pyhost: cannot create a sub-interpreter");
  }
#endif
  // The new interpreter's thread state is current and holds its GIL; the main GIL was
  // released by the creation. Detach so that the owner attaches explicitly (GilHold).
  try {
    if (!runtime_dir.empty()) add_runtime_to_sys_path(runtime_dir);
  } catch (...) {
    PyEval_SaveThread();
    throw;
  }
  PyEval_SaveThread();
}

SubInterpreter::~SubInterpreter() {
  PyEval_RestoreThread(tstate_);
  // Join the interpreter's non-daemon threads first: ending it with threads alive is fatal.
  if (PyRef module = PyRef::steal(PyImport_ImportModule("pyhost._host"))) {
    PyRef result = PyRef::steal(PyObject_CallMethod(module.get(), "shutdown_interpreter", nullptr));
    if (!result) spdlog::warn("{}", fetch_python_error("pyhost: sub-interpreter shutdown"));
  } else {
    PyErr_Clear();
  }
  {
    // Attached here: wait for the lock detached (see attached_lock.hpp).
    auto lock = lock_attached(interpreter_lifecycle_mutex());
    Py_EndInterpreter(tstate_);
  }
  // bridge_ is destroyed after this body, with no thread state current: it attaches itself.
}

}  // namespace pyhost
