// `pyhost info`: which Python pyhost embeds and what this machine offers.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "cli/command.hpp"
#include "pyhost/interpreter.hpp"

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
                                  {"cores", cores}};
            if (args->json) {
              fmt::print("{}\n", doc.dump(2));
              return kExitOk;
            }
            fmt::print("pyhost {}\n", PYHOST_VERSION);
            fmt::print("python      {} ({})\n", info.version, info.executable);
            fmt::print("runtime     {}\n", info.runtime_dir);
            fmt::print("venv        {}\n", info.venv.empty() ? "none" : info.venv);
            fmt::print("subinterpreters  {}\n", info.own_gil
                                                    ? "own GIL each (PEP 684): parallel"
                                                    : "shared GIL (CPython < 3.12): not parallel");
            fmt::print("cores       {}\n", cores);
            return kExitOk;
          }};
}

}  // namespace pyhost::cli
