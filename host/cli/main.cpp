// pyhost: run, compare and automate Python scripts across threads, sub-interpreters and processes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/run_words.hpp"

namespace pyhost::cli {
namespace {

std::vector<std::string> g_raw_argv;

void setup_logging(const std::string& level_name) {
  auto logger = spdlog::stderr_color_mt("pyhost");
  logger->set_pattern("pyhost: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  std::string name = level_name;
  if (name.empty()) {
    const char* env = std::getenv("PYHOST_LOG");
    name = env ? env : "warn";
  }
  spdlog::set_level(spdlog::level::from_str(name));
}

}  // namespace

// The first word that is not an option must be a command: say which ones exist if not.
bool words_name_a_command(const CLI::App& app, char** argv, int argc) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--log-level") {
      ++i;
      continue;
    }
    if (word.rfind("-", 0) == 0) continue;
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == word) return true;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({}))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    fmt::print(stderr, "pyhost: unknown command '{}' (commands: {})\n", word, names);
    return false;
  }
  return true;
}

const std::vector<std::string>& raw_argv() {
  return g_raw_argv;
}

}  // namespace pyhost::cli

int main(int argc, char** argv) {
  using namespace pyhost::cli;
  g_raw_argv.assign(argv, argv + argc);

  // Named: parse() of a word list (not argc/argv) does not take the name from argv[0], and
  // without one every usage line reads "Usage: [OPTIONS] ..." / "Usage: run ...".
  CLI::App app{
      "pyhost: run, compare and automate Python scripts across threads, "
      "sub-interpreters, processes and GPUs.",
      "pyhost"};
  app.require_subcommand(1);
  std::string log_level;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (env PYHOST_LOG)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  std::vector<Command> commands = {add_run_command(app),     add_info_command(app),
                                   add_batch_command(app),   add_compare_command(app),
                                   add_kernels_command(app), add_worker_command(app)};

  if (!words_name_a_command(app, argv, argc)) return kExitUsage;

  // `run` stops reading its own options at the script (or -m/-c), like python does.
  std::vector<std::string> words(argv + 1, argv + argc);
  RunWords split = split_run_words(words);
  set_run_target_words(split.target);
  try {
    std::vector<std::string> reversed(split.options.rbegin(), split.options.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }
  setup_logging(log_level);
  for (const auto& command : commands)
    if (command.app->parsed()) return command.run();
  return kExitUsage;
}
