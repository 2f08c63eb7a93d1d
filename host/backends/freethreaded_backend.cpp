// The freethreaded mode: threads sharing one interpreter of a free-threaded CPython (3.13t,
// PEP 703), where Python threads run in parallel. The free-threaded ABI differs from the default
// one, so the same sources are built twice: in pyhost-ft (built against 3.13t) the tasks run here,
// on the in-process backend; in the default build they run in that companion, as a child
// `pyhost-ft run` whose --json is read back (RunPlan::to_argv, RunResult::from_json).
#include <Python.h>
#include <signal.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <fstream>
#include <regex>

#include "backends/backend.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/py_ref.hpp"
#include "util/child_process.hpp"
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
  PyRef enabled =
      sys ? PyRef::steal(PyObject_CallMethod(sys.get(), "_is_gil_enabled", nullptr)) : PyRef();
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

class FreeThreadedBackend final : public ModeBackend {
 public:
  BackendTraits traits() const override { return in_process_backend().traits(); }
  RunResult run(const RunPlan& plan, const ModeInfo& mode, const RunContext& context) override {
    RunResult result = in_process_backend().run(plan, mode, context);
    result.gil_enabled_by = module_that_enabled_the_gil(result);
    return result;
  }
};

#else  // the default build: the companion runs the tasks

class FreeThreadedBackend final : public ModeBackend {
 public:
  // The companion takes the plan's words (RunPlan::to_argv), not task ids one by one: it runs
  // --journal and --resume itself, and cannot be one rank's share of an MPI run (the CLI makes
  // the companion the rank instead, run_command.cpp).
  BackendTraits traits() const override {
    return {.needs_runtime = false, .takes_feed = false, .hands_on_whole_plan = true};
  }
  std::optional<std::string> unavailable(const ModeInfo&) const override {
    if (find_freethreaded_companion()) return std::nullopt;
    return "the free-threaded companion pyhost-ft was not built next to this pyhost: "
           "`pyhost setup freethreaded` builds it (PYHOST_FT_BIN names one built elsewhere)";
  }
  RunResult run(const RunPlan& plan, const ModeInfo&, const RunContext&) override {
    const std::filesystem::path companion = *find_freethreaded_companion();
    TempDir dir("pyhost-ft");
    const std::filesystem::path json = dir.path() / "run.json";
    ChildSpec spec;
    spec.exe = companion;
    spec.args = plan.to_argv(json.string());
    spec.args.insert(spec.args.begin() + 1, "--no-summary");  // this pyhost reports the run
    spec.set_env[kFreethreadedCompanionEnv] = "";             // the companion runs the tasks itself
    if (!plan.echo_output) spec.fds = {{1, -1}, {2, -1}};
    HostSignals signals;  // Ctrl-C reaches the companion too; SIGTERM is passed on
    ChildProcess child = ChildProcess::start(spec);
    int forwarded = 0;
    std::optional<ExitStatus> status;
    while (
        !(status = child.wait_until(ChildProcess::Clock::now() + std::chrono::milliseconds(50)))) {
      if (const int received = HostSignals::received(); received == SIGTERM && !forwarded)
        child.signal(forwarded = SIGTERM);
    }
    std::error_code missing;
    if (!std::filesystem::exists(json, missing)) {
      const std::string why = status->signal ? "was " + status->describe() : status->describe();
      if (status->exit_code == 2) throw PlanError("the free-threaded companion refused the plan");
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

ModeBackend& freethreaded_backend() {
  static FreeThreadedBackend backend;
  return backend;
}

}  // namespace pyhost
