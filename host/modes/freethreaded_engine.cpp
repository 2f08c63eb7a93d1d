// The freethreaded mode: threads sharing one interpreter of a free-threaded CPython (3.13t,
// PEP 703), where Python threads run in parallel. The free-threaded ABI differs from the default
// one, so the same sources are built twice: in pyhost-ft (built against 3.13t) the tasks run here,
// on the in-process engine; in the default build they run in that companion, as a child
// `pyhost-ft run` whose --json is read back (RunPlan::to_argv, RunResult::from_json).
#include <Python.h>
#include <signal.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <thread>

#include "modes/engine.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/py_ref.hpp"
#include "util/boost_process.hpp"
#include "util/companion.hpp"
#include "util/files.hpp"
#include "util/host_signals.hpp"
#include "util/process_info.hpp"

namespace pyhost {
namespace {

#ifdef Py_GIL_DISABLED

// CPython turns the GIL back on to import an extension module that has not declared it can run
// without one, and warns: "... has been enabled to load module 'name', which has not declared
// ...". Returns that module, "" when the GIL is still off.
std::string module_that_enabled_the_gil(const RunResult& result) {
  PyRef sys = PyRef::steal(PyImport_ImportModule("sys"));
  PyRef enabled = sys ? PyRef::steal(PyObject_CallMethod(sys.get(), "_is_gil_enabled", nullptr))
                      : PyRef();
  if (!enabled) {
    PyErr_Clear();
    return {};
  }
  if (!PyObject_IsTrue(enabled.get())) return {};
  static const std::regex warning("enabled to load module '([^']+)'");
  for (const auto& task : result.tasks) {
    std::smatch match;
    if (std::regex_search(task.stderr_text, match, warning)) return match[1];
  }
  return "an extension module";
}

class FreeThreadedEngine final : public ModeEngine {
 public:
  bool needs_runtime() const override { return true; }
  RunResult run(const RunPlan& plan, const ModeInfo& mode, PythonRuntime* runtime) override {
    RunResult result = in_process_engine().run(plan, mode, runtime);
    result.gil_enabled_by = module_that_enabled_the_gil(result);
    return result;
  }
};

#else  // the default build: the companion runs the tasks

class FreeThreadedEngine final : public ModeEngine {
 public:
  std::optional<std::string> unavailable(const ModeInfo&) const override {
    if (find_freethreaded_companion()) return std::nullopt;
    return "the free-threaded companion pyhost-ft was not built next to this pyhost (.ci/setup "
           "builds it when CPython 3.13t can be had; PYHOST_FT_BIN names one)";
  }
  bool needs_runtime() const override { return false; }

  RunResult run(const RunPlan& plan, const ModeInfo&, PythonRuntime*) override {
    namespace bp = bpv1;
    const std::filesystem::path companion = *find_freethreaded_companion();
    TempDir dir("pyhost-ft");
    const std::filesystem::path json = dir.path() / "run.json";
    bp::environment env = boost::this_process::environment();
    env[kFreethreadedCompanionEnv] = "";  // the companion runs the tasks itself
    HostSignals signals;                  // Ctrl-C reaches the companion too; SIGTERM is passed on
    std::vector<std::string> argv = plan.to_argv(json.string());
    argv.insert(argv.begin() + 1, "--no-summary");  // this pyhost reports the run
    bp::child child = plan.echo_output
                          ? bp::child(companion.string(), bp::args(argv), env)
                          : bp::child(companion.string(), bp::args(argv), env,
                                      bp::std_out > bp::null, bp::std_err > bp::null);
    int forwarded = 0;
    std::error_code ec;
    // Polled (child::wait_for is deprecated as unreliable in Boost 1.88+): SIGTERM is passed on.
    while (child.running(ec) && !ec) {
      if (const int received = HostSignals::received(); received == SIGTERM && !forwarded)
        ::kill(child.id(), forwarded = SIGTERM);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    child.wait(ec);  // the exit status, if running() did not collect it
    const int status = child.native_exit_code();
    std::error_code missing;
    if (!std::filesystem::exists(json, missing)) {
      const std::string why = WIFSIGNALED(status)
                                  ? "was killed by " + signal_name(WTERMSIG(status))
                                  : fmt::format("exited with status {}", WEXITSTATUS(status));
      if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
        throw PlanError("the free-threaded companion refused the plan");
      throw std::runtime_error(fmt::format("the free-threaded companion {} {} without results",
                                           companion.string(), why));
    }
    // The companion writes every record (--json): the plan's choice is made here, after it.
    RunResult result = RunResult::from_json(nlohmann::json::parse(read_file(json)));
    if (plan.keep_records == KeepRecords::Failures)
      std::erase_if(result.tasks,
                    [](const TaskResult& task) { return task.status == TaskStatus::Ok; });
    result.stopped_by_signal = HostSignals::received();
    return result;
  }
};

#endif

}  // namespace

ModeEngine& freethreaded_engine() {
  static FreeThreadedEngine engine;
  return engine;
}

}  // namespace pyhost
