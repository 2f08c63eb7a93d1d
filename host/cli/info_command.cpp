// `pyhost info`: which Python pyhost embeds and what this machine offers.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "cli/command.hpp"
#include "cli/interpreter_options.hpp"
#include "embed/gil_sampler.hpp"
#include "pyhost/interpreter.hpp"
#include "sandbox/support.hpp"
#include "util/companion.hpp"
#include "util/process_info.hpp"

namespace pyhost::cli {

Command add_info_command(CLI::App& parent) {
  struct Args {
    bool python_exe = false;
    bool json = false;
    std::vector<std::string> interpreters;
  };
  auto args = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand("info", "Show the embedded Python and the machine.");
  app->add_flag("--python-exe", args->python_exe, "print only the python used as sys.executable");
  app->add_flag("--json", args->json, "print as JSON");
  app->add_option("--interpreter", args->interpreters, kInterpreterFlagHelp)
      ->type_name("PATH")
      ->allow_extra_args(false);
  return {app, [args] {
            const PythonInfo info = describe_python();
            if (args->python_exe) {
              fmt::print("{}\n", info.executable);
              return kExitOk;
            }
            const unsigned cores = std::thread::hardware_concurrency();
            nlohmann::json doc = {{"pyhost", PYHOST_VERSION},
                                  {"python", info.version},
                                  {"executable", info.executable},
                                  {"runtime", info.runtime_dir},
                                  {"venv", info.venv},
                                  {"own_gil_subinterpreters", info.own_gil},
                                  {"free_threaded", info.free_threaded},
                                  {"cores", cores}};
            // Whether GIL timelines read the GIL here; an unverified CPython layout is named.
            const GilSamplerSupport gil = gil_sampler_support();
            doc["gil_sampler"] = {
                {"reads_gil", gil.reads_gil}, {"layout", gil.layout}, {"status", gil.line}};
            // The CPythons this pyhost can run a script with (its own, the free-threaded
            // companion's, registered builds'); a registered path that is no pyhost is an error.
            KnownInterpreters known;
            try {
              known = known_interpreters(args->interpreters);
            } catch (const InterpreterError& error) {
              fmt::print(stderr, "pyhost info: error: {}\n", error.what());
              return kExitUsage;
            }
            // The free-threaded companion (pyhost-ft) and its CPython; a companion itself has
            // none. null when there is none.
            const std::optional<CompanionInfo>& companion = known.companion;
            doc["freethreaded_companion"] = nullptr;
            if (companion) {
              doc["freethreaded_companion"] = {
                  {"binary", companion->binary.string()},
                  {"python", companion->python.empty() ? nlohmann::json(nullptr)
                                                       : nlohmann::json(companion->python)},
                  {"executable", companion->executable},
                  {"free_threaded", companion->free_threaded}};
              if (!companion->problem.empty())
                doc["freethreaded_companion"]["problem"] = companion->problem;
            }
            // --sandbox's mechanisms: each {"available", "why"} (why: null when available).
            const sandbox::Support& sandbox = sandbox::support();
            auto mechanism = [](const std::string& why) {
              return nlohmann::json{
                  {"available", why.empty()},
                  {"why", why.empty() ? nlohmann::json(nullptr) : nlohmann::json(why)}};
            };
            doc["sandbox"] = {{"user_namespaces", mechanism(sandbox.user_namespaces)},
                              {"landlock", mechanism(sandbox.landlock)},
                              {"seccomp", mechanism(sandbox.seccomp)},
                              {"cgroup", mechanism(sandbox.cgroup)},
                              {"usable", sandbox.missing().empty()}};
            doc["sandbox"]["landlock"]["abi"] = sandbox.landlock_abi;
            if (!sandbox.cgroup_dir.empty()) doc["sandbox"]["cgroup"]["dir"] = sandbox.cgroup_dir;
            // Side by side: `name` is the minor version, with a "t" for a free-threaded build
            // ("3.13", "3.13t"); `pyhost` the build that embeds it.
            doc["interpreters"] = nlohmann::json::array();
            for (const auto& interpreter : known.list.interpreters)
              doc["interpreters"].push_back({{"name", interpreter.name},
                                             {"version", interpreter.version},
                                             {"free_threaded", interpreter.free_threaded},
                                             {"pyhost", interpreter.pyhost.string()}});
            doc["interpreter_notes"] = known.list.notes;
            if (args->json) {
              fmt::print("{}\n", doc.dump(2));
              return kExitOk;
            }
            fmt::print("pyhost {}\n", PYHOST_VERSION);
            fmt::print("python      {}{} ({})\n", info.version,
                       info.free_threaded ? " free-threaded (GIL disabled)" : "", info.executable);
            fmt::print("runtime     {}\n", info.runtime_dir);
            fmt::print("venv        {}\n", info.venv.empty() ? "none" : info.venv);
            fmt::print("subinterpreters  {}\n", info.own_gil
                                                    ? "own GIL each (PEP 684): parallel"
                                                    : "shared GIL (CPython < 3.12): not parallel");
            if (info.free_threaded) {
              fmt::print("threads     run in parallel (free-threaded build, no GIL)\n");
            } else if (companion && companion->problem.empty()) {
              fmt::print("python-ft   {} free-threaded ({}) in {}\n", companion->python,
                         companion->executable, companion->binary.string());
            } else if (companion) {
              fmt::print("python-ft   unusable: {}\n", companion->problem);
            } else {
              fmt::print("python-ft   none (no {} next to pyhost; `pyhost setup freethreaded` builds it)\n",
                         kFreethreadedCompanionName);
            }
            for (const auto& interpreter : known.list.interpreters)
              fmt::print("interpreter {:<6} CPython {}{} in {}\n", interpreter.name,
                         interpreter.version, interpreter.free_threaded ? " free-threaded" : "",
                         interpreter.pyhost.string());
            for (const auto& note : known.list.notes) fmt::print("interpreter {}\n", note);
            fmt::print("gil sampler {}\n", gil.line);
            fmt::print("cores       {}\n", cores);
            auto line = [](const char* name, const std::string& why, const std::string& yes) {
              fmt::print("  {:<16}{}\n", name, why.empty() ? yes : "MISSING: " + why);
            };
            fmt::print("sandbox     {}\n", sandbox.missing().empty()
                                               ? "--sandbox available"
                                               : "--sandbox refused here (--sandbox-best-effort "
                                                 "runs without what is missing)");
            line("namespaces", sandbox.user_namespaces, "user, mount, PID, IPC, UTS, network");
            line("landlock", sandbox.landlock, fmt::format("ABI {}", sandbox.landlock_abi));
            line("seccomp", sandbox.seccomp, "filters");
            fmt::print("  {:<16}{}\n", "cgroup v2",
                       sandbox.cgroup.empty() ? "memory.max and pids.max in " + sandbox.cgroup_dir
                                              : "not used (rlimits only): " + sandbox.cgroup);
            return kExitOk;
          }};
}

}  // namespace pyhost::cli
