// `pyhost info`: which Python pyhost embeds and what this machine offers.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "cli/command.hpp"
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
  };
  auto args = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand("info", "Show the embedded Python and the machine.");
  app->add_flag("--python-exe", args->python_exe, "print only the python used as sys.executable");
  app->add_flag("--json", args->json, "print as JSON");
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
            // The free-threaded companion (pyhost-ft) and its CPython; a companion itself has
            // none. null when there is none.
            std::optional<CompanionInfo> companion;
            if (!info.free_threaded) {
              if (auto binary = find_freethreaded_companion())
                companion = describe_freethreaded_companion(*binary);
            }
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
            // The CPythons this pyhost can run a script with, side by side: its own, and the
            // free-threaded companion's when that one is usable. `name` is the minor version,
            // with a "t" for a free-threaded build ("3.13", "3.13t").
            auto minor_name = [](const std::string& version, bool free_threaded) {
              const auto first = version.find('.');
              const auto second = version.find('.', first + 1);
              return version.substr(0, second) + (free_threaded ? "t" : "");
            };
            doc["interpreters"] = nlohmann::json::array();
            doc["interpreters"].push_back({{"name", minor_name(info.version, info.free_threaded)},
                                           {"version", info.version},
                                           {"free_threaded", info.free_threaded},
                                           {"binary", self_exe().string()}});
            if (companion && companion->problem.empty() && !companion->python.empty())
              doc["interpreters"].push_back(
                  {{"name", minor_name(companion->python, companion->free_threaded)},
                   {"version", companion->python},
                   {"free_threaded", companion->free_threaded},
                   {"binary", companion->binary.string()}});
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
