#include "pyhost/interpreter.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "embed/host_module.hpp"
#include "pyhost/py_ref.hpp"
#include "pyhost/python_error.hpp"

#ifdef PYHOST_WITH_KERNELS
#include "kernels/kernels_module.hpp"
#include "util/process_info.hpp"
#endif

namespace fs = std::filesystem;

namespace pyhost {
namespace {

std::string major_minor(const std::string& version) {
  auto first = version.find('.');
  auto second = version.find('.', first + 1);
  return version.substr(0, second);
}

// "version = 3.13.0" (or version_info) from a venv's pyvenv.cfg; empty if absent.
std::string venv_version(const fs::path& venv) {
  std::ifstream cfg(venv / "pyvenv.cfg");
  std::string line;
  while (std::getline(cfg, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", eq - 1) + 1);
    if (key == "version" || key == "version_info") {
      // "version =" with nothing after it says nothing: look on (the caller warns if no line
      // names a version).
      const auto start = line.find_first_not_of(" \t\r", eq + 1);
      if (start == std::string::npos) continue;
      const auto end = line.find_last_not_of(" \t\r");
      return line.substr(start, end - start + 1);
    }
  }
  return {};
}

// Where an installation keeps the `pyhost` package, seen from the directory `base` of the pyhost
// program or of libpyhost.so: a prefix's share/pyhost/runtime (base is bin/ or lib/), or, for a
// wheel, the site-packages that holds the pyhost/ package base is part of (pyhost/_bin/,
// pyhost/_lib/; cmake/PyhostInstallDirs.cmake). Empty if neither.
fs::path installed_runtime_dir(const fs::path& base) {
  std::error_code ec;
  const fs::path prefix_runtime = base.parent_path() / "share/pyhost/runtime";
  if (fs::exists(prefix_runtime / "pyhost/__init__.py", ec)) return prefix_runtime;
  const fs::path package = base.parent_path();
  if (package.filename() == "pyhost" && fs::exists(package / "__init__.py", ec))
    return package.parent_path();
  return {};
}

// The `pyhost` Python package: $PYHOST_RUNTIME_DIR, else the installation's (beside the pyhost
// executable or the libpyhost an application loaded), else the source tree.
std::string find_runtime_dir() {
  if (const char* env = std::getenv("PYHOST_RUNTIME_DIR"); env && *env) return env;
  for (const fs::path& base : {self_exe().parent_path(), library_dir()}) {
    if (fs::path installed = installed_runtime_dir(base); !installed.empty())
      return installed.string();
  }
  return PYHOST_SOURCE_RUNTIME_DIR;
}

// The venv a `pip install` put this program into (<venv>/lib/pythonX.Y/site-packages/pyhost/
// _bin/pyhost): its interpreter is the one pyhost runs as, even when the venv is not activated
// (the `pyhost` command of a venv works like its `python`). Empty for any other layout.
fs::path installed_venv() {
  const fs::path bin = self_exe().parent_path();
  if (bin.filename() != "_bin" || bin.parent_path().filename() != "pyhost") return {};
  std::error_code ec;
  fs::path dir = bin.parent_path();
  for (int up = 0; up < 5 && dir.has_parent_path() && dir != dir.root_path(); ++up) {
    dir = dir.parent_path();
    if (fs::exists(dir / "pyvenv.cfg", ec)) return dir;
  }
  return {};
}

// The runtime directory must hold the `pyhost` package: without it every task would fail later
// with a ModuleNotFoundError far from the cause (a wrong PYHOST_RUNTIME_DIR, a broken install).
void check_runtime_dir(const std::string& runtime_dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(runtime_dir) / "pyhost/__init__.py", ec))
    throw std::runtime_error(
        "the runtime directory " + runtime_dir + " has no pyhost package (pyhost/__init__.py)" +
        (std::getenv("PYHOST_RUNTIME_DIR") ? " (set by PYHOST_RUNTIME_DIR)" : ""));
}

void check_status(const PyStatus& status, const char* what) {
  if (PyStatus_Exception(status)) {
    throw std::runtime_error(std::string(what) + ": " +
                             (status.err_msg ? status.err_msg : "unknown error"));
  }
}

std::atomic<PythonRuntime*> g_active_runtime{nullptr};

// CPython 3.12.0-3.12.3 (gh-119213, fixed in 3.12.4): a keyword-argument parser's cached tuple
// of names (_PyArg_Parser.kwtuple, a static global) is allocated by whichever interpreter calls
// the function first. When that is an own-GIL sub-interpreter, the tuple comes from its own
// allocator and outlives it; Py_FinalizeEx of the main interpreter later frees it through the
// main allocator: "double free or corruption", SIGABRT after every result was printed (a
// ThreadPoolExecutor in a sub-interpreter is enough). Py_Version, not PY_VERSION_HEX: the
// libpython loaded may be another 3.12 patch release than the headers compiled against.
bool finalize_would_crash() {
  return SubInterpreter::any_made() && Py_Version >= 0x030C0000 && Py_Version < 0x030C04F0;
}

// What Py_FinalizeEx does that a program can observe, without the freeing that crashes there:
// wait for non-daemon threads, run atexit handlers, flush the standard streams. The process's
// exit then returns the memory. Returns -1 when flushing failed, as Py_FinalizeEx does.
int finish_without_finalizing() {
  int status = 0;
  auto call = [&status](const char* module_name, const char* function) {
    PyRef module = PyRef::steal(PyImport_ImportModule(module_name));
    PyRef result =
        module ? PyRef::steal(PyObject_CallMethod(module.get(), function, nullptr)) : PyRef{};
    if (!result) {
      PyErr_WriteUnraisable(nullptr);
      status = -1;
    }
  };
  call("threading", "_shutdown");
  call("atexit", "_run_exitfuncs");
  for (const char* stream : {"stdout", "stderr"}) {
    PyObject* file = PySys_GetObject(stream);  // borrowed
    if (file == nullptr || file == Py_None) continue;
    PyRef result = PyRef::steal(PyObject_CallMethod(file, "flush", nullptr));
    if (!result) {
      PyErr_Clear();
      status = -1;
    }
  }
  return status;
}

}  // namespace

PythonInfo describe_python() {
  PythonInfo info;
  info.version = PY_VERSION;
  info.executable = PYHOST_PYTHON_EXE;
  info.runtime_dir = find_runtime_dir();
  info.own_gil = SubInterpreter::has_own_gil();
#ifdef Py_GIL_DISABLED
  info.free_threaded = true;
  constexpr const char* kAbiSuffix = "t";  // site-packages of a 3.13t venv: lib/python3.13t
#else
  constexpr const char* kAbiSuffix = "";
#endif
  fs::path venv;
  if (const char* env = std::getenv("VIRTUAL_ENV"); env && *env)
    venv = env;
  else
    venv = installed_venv();
  if (!venv.empty()) {
    std::string version = venv_version(venv);
    std::error_code ec;
    const std::string lib_dir = "python" + major_minor(info.version) + kAbiSuffix;
    if (version.empty()) {
      spdlog::warn("VIRTUAL_ENV={} has no pyvenv.cfg; ignoring it", venv.string());
    } else if (major_minor(version) != major_minor(info.version)) {
      spdlog::warn("VIRTUAL_ENV={} is Python {}, but pyhost embeds Python {}; ignoring it",
                   venv.string(), version, info.version);
    } else if (!fs::is_directory(venv / "lib" / lib_dir, ec)) {
      // The default and the free-threaded ABI do not share extension modules (nor a venv).
      spdlog::warn(
          "VIRTUAL_ENV={} has no lib/{}: it is not a venv of the {} CPython pyhost "
          "embeds; ignoring it",
          venv.string(), lib_dir, info.free_threaded ? "free-threaded" : "default");
    } else {
      info.venv = venv.string();
      info.executable = (venv / "bin/python").string();
    }
  }
  return info;
}

PythonRuntime::PythonRuntime(const RuntimeOptions& options) : info_(describe_python()) {
  if (Py_IsInitialized()) throw std::logic_error("pyhost: the Python runtime is already running");
  if (PyImport_AppendInittab("_pyhost", &PyInit__pyhost) != 0)
    throw std::runtime_error("pyhost: cannot register the _pyhost module");
#ifdef PYHOST_WITH_KERNELS
  if (PyImport_AppendInittab("_pyhost_kernels", &PyInit__pyhost_kernels) != 0)
    throw std::runtime_error("pyhost: cannot register the _pyhost_kernels module");
#endif

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  struct ConfigGuard {
    PyConfig* config;
    ~ConfigGuard() { PyConfig_Clear(config); }
  } guard{&config};
  config.parse_argv = 0;
  config.install_signal_handlers = options.install_signal_handlers ? 1 : 0;
  config.buffered_stdio = options.buffered_stdio ? 1 : 0;
  // sys.executable must be a python that behaves like python (multiprocessing, subprocess).
  // Setting it also lets getpath find a venv's pyvenv.cfg next to it.
  check_status(PyConfig_SetBytesString(&config, &config.program_name, info_.executable.c_str()),
               "pyhost: program name");
  check_status(PyConfig_SetBytesString(&config, &config.executable, info_.executable.c_str()),
               "pyhost: executable");
  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  check_status(PyConfig_SetBytesArgv(&config, static_cast<Py_ssize_t>(argv.size()), argv.data()),
               "pyhost: argv");

  PyStatus status = Py_InitializeFromConfig(&config);
  // A library does not end its host's process: the application decides what an exit means.
  if (PyStatus_IsExit(status)) throw PythonExit(status.exitcode);
  check_status(status, "pyhost: cannot initialise Python");
  main_interp_ = PyInterpreterState_Main();
  // Published only once it is complete: a constructor that throws leaves no runtime behind,
  // neither in active() nor as an initialised CPython (so that the caller may try again).
  try {
    check_runtime_dir(info_.runtime_dir);
    add_runtime_to_sys_path(info_.runtime_dir);
  } catch (...) {
    Py_FinalizeEx();
    throw;
  }
  g_active_runtime.store(this, std::memory_order_release);
}

int PythonRuntime::finalize() {
  if (finalized_) return 0;
  finalized_ = true;
  if (finalize_would_crash()) {
    spdlog::debug("CPython {} < 3.12.4 after sub-interpreters (gh-119213): not finalizing",
                  Py_GetVersion());
    return finish_without_finalizing();
  }
  return Py_FinalizeEx();
}

PythonRuntime* PythonRuntime::active() {
  return g_active_runtime.load(std::memory_order_acquire);
}

PythonRuntime::~PythonRuntime() {
  g_active_runtime.store(nullptr, std::memory_order_release);
  if (!finalized_) finalize();
}

}  // namespace pyhost
