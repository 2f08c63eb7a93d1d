// _pyhost.interp_start / interp_join: OS threads that each create an own-GIL sub-interpreter, run
// a piece of Python code in it (an executor worker's loop) and end it, all on that thread, as the
// sub-interpreter lifecycle rules require. Only CPython's own state is used (the main interpreter
// of the process), no PythonRuntime: the same functions serve the pyhost program's `_pyhost` and
// a plain python's `_pyhost_subinterpreters` extension. The code sets sys.path up itself.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "embed/attached_lock.hpp"
#include "embed/executor_functions.hpp"
#include "embed/fastcall.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/py_ref.hpp"
#include "pyhost/python_error.hpp"

namespace pyhost {
namespace {

class InterpreterThread {
 public:
  InterpreterThread(PyInterpreterState* main, std::string code)
      : thread_([this, main, code = std::move(code)] { body(main, code); }) {}
  ~InterpreterThread() {
    if (thread_.joinable()) thread_.detach();  // only when the process is going down anyway
  }

  // Waits up to `timeout_s` (< 0: forever); true once the thread has ended and been joined.
  bool join(double timeout_s) {
    std::unique_lock lock(mutex_);
    auto ended = [&] { return ended_; };
    if (timeout_s < 0)
      done_.wait(lock, ended);
    else if (!done_.wait_for(lock, std::chrono::duration<double>(timeout_s), ended))
      return false;
    lock.unlock();
    if (thread_.joinable()) thread_.join();
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  void body(PyInterpreterState* main, const std::string& code) {
    std::string error;
    try {
      SubInterpreter interpreter(main, {});
      GilHold gil(interpreter.thread_state());
      PyRef globals = PyRef::steal(PyDict_New());
      PyRef result;
      if (globals && PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) == 0)
        result =
            PyRef::steal(PyRun_String(code.c_str(), Py_file_input, globals.get(), globals.get()));
      if (!result) error = fetch_python_error("pyhost: executor worker");
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    if (!error.empty()) spdlog::debug("{}", error);  // the executor reports it
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
    ended_ = true;
    done_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable done_;
  bool ended_ = false;
  std::string error_;
  std::thread thread_;  // last: it starts running body() as soon as it is constructed
};

std::mutex g_threads_mutex;
std::map<long, std::unique_ptr<InterpreterThread>> g_threads;
long g_next_handle = 1;

// interp_start(code) -> handle
PyObject* interp_start(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 1 || !PyUnicode_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "interp_start(code: str) takes 1 argument");
    return nullptr;
  }
  const char* code = PyUnicode_AsUTF8(args[0]);
  if (code == nullptr) return nullptr;
  try {
    auto thread = std::make_unique<InterpreterThread>(PyInterpreterState_Main(), code);
    long handle = 0;
    {
      auto lock = lock_attached(g_threads_mutex);
      handle = g_next_handle++;
      g_threads.emplace(handle, std::move(thread));
    }
    return PyLong_FromLong(handle);
  } catch (const std::exception& failure) {
    PyErr_Format(PyExc_RuntimeError, "pyhost: cannot start a sub-interpreter thread: %s",
                 failure.what());
    return nullptr;
  }
}

// interp_join(handle, timeout) -> (ended, error or None). An ended thread is forgotten.
PyObject* interp_join(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "interp_join(handle, timeout) takes 2 arguments");
    return nullptr;
  }
  const long handle = PyLong_AsLong(args[0]);
  const double timeout = args[1] == Py_None ? -1.0 : PyFloat_AsDouble(args[1]);
  if (PyErr_Occurred()) return nullptr;
  InterpreterThread* thread = nullptr;
  {
    auto lock = lock_attached(g_threads_mutex);
    auto it = g_threads.find(handle);
    if (it == g_threads.end())
      return PyErr_Format(PyExc_ValueError, "no interpreter thread %ld", handle);
    thread = it->second.get();
  }
  bool ended = false;
  // Only the executor that started a thread joins it, so `thread` stays valid meanwhile.
  Py_BEGIN_ALLOW_THREADS ended = thread->join(std::isnan(timeout) ? -1.0 : timeout);
  Py_END_ALLOW_THREADS if (!ended) return Py_BuildValue("(OO)", Py_False, Py_None);
  std::unique_ptr<InterpreterThread> finished;
  {
    auto lock = lock_attached(g_threads_mutex);
    auto it = g_threads.find(handle);
    finished = std::move(it->second);
    g_threads.erase(it);
  }
  if (finished->error().empty()) return Py_BuildValue("(OO)", Py_True, Py_None);
  return Py_BuildValue("(Os)", Py_True, finished->error().c_str());
}

}  // namespace

PyMethodDef interpreter_thread_methods[] = {
    {"interp_start", fastcall(&interp_start), METH_FASTCALL,
     "interp_start(code) -> handle: run code in a new own-GIL sub-interpreter on a new thread"},
    {"interp_join", fastcall(&interp_join), METH_FASTCALL,
     "interp_join(handle, timeout) -> (ended, error): wait for that thread"},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace pyhost
