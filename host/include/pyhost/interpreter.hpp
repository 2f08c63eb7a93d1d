// The embedded CPython: the main interpreter (PythonRuntime) and worker sub-interpreters.
#pragma once

#include <Python.h>

#include <optional>
#include <string>
#include <vector>

#include "pyhost/thread_state.hpp"

namespace pyhost {

struct RuntimeOptions {
  // sys.argv of the main interpreter until a task sets its own.
  std::vector<std::string> argv{""};
  // Python's own SIGINT handler (KeyboardInterrupt in the main thread), as `python` has it.
  bool install_signal_handlers = true;
  // false: unbuffered stdout/stderr, as `python -u` (worker processes stream output live).
  bool buffered_stdio = true;
};

// Facts about the CPython pyhost embeds, for `pyhost info` and messages.
struct PythonInfo {
  std::string version;         // "3.13.0"
  std::string executable;      // sys.executable given to scripts: a real python of the same install
  std::string runtime_dir;     // where the `pyhost` Python package is imported from
  std::string venv;            // the virtual environment in use, empty if none
  bool own_gil = false;        // per-interpreter GIL available (PEP 684, 3.12+)
  bool free_threaded = false;  // built against a --disable-gil CPython (3.13t): no GIL at all
};

// The python that scripts see as sys.executable: $VIRTUAL_ENV/bin/python when a virtual
// environment of the same CPython version and ABI (free-threaded or not) is active, else the
// python pyhost was built against.
PythonInfo describe_python();

// Appends the runtime folder to sys.path of the current interpreter (GIL held).
void add_runtime_to_sys_path(const std::string& runtime_dir);

// Initialises the main interpreter on construction and finalises it on destruction. The
// constructing thread holds the GIL afterwards. Only one may exist in a process.
class PythonRuntime {
 public:
  explicit PythonRuntime(const RuntimeOptions& options = {});
  ~PythonRuntime();
  PythonRuntime(const PythonRuntime&) = delete;
  PythonRuntime& operator=(const PythonRuntime&) = delete;

  // Runs Py_FinalizeEx now (atexit handlers, non-daemon threads); returns its status.
  // Every sub-interpreter must have been ended before.
  int finalize();
  PyInterpreterState* main_interpreter() const { return main_interp_; }
  // The runtime of this process (nullptr before it is made / after it is gone): what code called
  // from Python (the `_pyhost` module) uses to start sub-interpreters.
  static PythonRuntime* active();
  const PythonInfo& info() const { return info_; }

 private:
  PyInterpreterState* main_interp_ = nullptr;
  PythonInfo info_;
  bool finalized_ = false;
};

// A sub-interpreter owned by the OS thread that constructed it (it must also destroy it). With
// CPython >= 3.12 it has its own GIL (PEP 684); on 3.11 it shares the main GIL.
// Construct and destroy without holding any GIL.
class SubInterpreter {
 public:
  explicit SubInterpreter(const PythonRuntime& runtime)
      : SubInterpreter(runtime.main_interpreter(), runtime.info().runtime_dir) {}
  // A sub-interpreter of `main` (a thread state of it is made on this thread), with `runtime_dir`
  // appended to its sys.path (empty: sys.path as CPython makes it).
  SubInterpreter(PyInterpreterState* main, const std::string& runtime_dir);
  ~SubInterpreter();
  SubInterpreter(const SubInterpreter&) = delete;
  SubInterpreter& operator=(const SubInterpreter&) = delete;

  PyThreadState* thread_state() const { return tstate_; }
  PyInterpreterState* interp() const { return PyThreadState_GetInterpreter(tstate_); }
  static bool has_own_gil();
  // Whether one was ever made in this process (CPython 3.12.0-3.12.3 cannot then be finalized:
  // PythonRuntime::finalize()).
  static bool any_made();

 private:
  // Creation needs a thread state of the main interpreter on this thread; kept until the end
  // because ending a sub-interpreter leaves no current thread state to clean it up from.
  std::optional<ThreadState> bridge_;
  PyThreadState* tstate_ = nullptr;
};

}  // namespace pyhost
