// pyhost: run, compare and automate Python scripts across threads, sub-interpreters and processes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/run_words.hpp"
#include "cli/sandbox_options.hpp"

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

// A reader that goes away (`pyhost ... | head -1`) ends pyhost as it ends python, never by a
// signal or an abort. SIGPIPE is ignored (python does the same), so writes fail with EPIPE: task
// output then raises BrokenPipeError in the task (OutputMux, _pyhost.write), and a host message
// that cannot be written (fmt::print throws std::system_error, uncaught) ends the process with
// python's status for output it could not flush at exit. This runs on the thrower's stack, as
// std::terminate does: nothing is unwound (a worker stuck in C code would block that).
constexpr int kExitOutputLost = 120;

std::terminate_handler g_default_terminate = nullptr;

void terminate_unless_reader_gone() {
  try {
    if (std::exception_ptr error = std::current_exception()) std::rethrow_exception(error);
  } catch (const std::system_error& error) {
    if (error.code().value() == EPIPE) {
      std::fflush(stdout);  // if that is the stream still read
      std::_Exit(kExitOutputLost);
    }
  } catch (...) {
  }
  if (g_default_terminate != nullptr) g_default_terminate();
  std::abort();
}

void survive_readers_that_go_away() {
  std::signal(SIGPIPE, SIG_IGN);
  g_default_terminate = std::set_terminate(&terminate_unless_reader_gone);
}

// PYHOST_PARSE_ONLY=1 (docs/cli.md): check a command line without running it.
bool parse_only_requested() {
  const char* value = std::getenv("PYHOST_PARSE_ONLY");
  return value != nullptr && std::string_view(value) == "1";
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
  survive_readers_that_go_away();

  // Named: parse() of a word list (not argc/argv) does not take the name from argv[0], and
  // without one every usage line reads "Usage: [OPTIONS] ..." / "Usage: run ...".
  CLI::App app{
      "pyhost: run, compare and automate Python scripts across threads, "
      "sub-interpreters, processes and GPUs.",
      "pyhost"};
  app.require_subcommand(1);
  // The version of CMakeLists.txt's project(): the pip package's version too (pyproject.toml).
  app.set_version_flag("--version", "pyhost " PYHOST_VERSION);
  std::string log_level;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (env PYHOST_LOG)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  std::vector<Command> commands = {add_run_command(app),      add_info_command(app),
                                   add_batch_command(app),    add_compare_command(app),
                                   add_kernels_command(app),  add_worker_command(app),
                                   add_sandboxed_command(app),   add_setup_command(app)};

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
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }
  // PYHOST_PARSE_ONLY=1: the words parsed (CLI11's checks, run's split included); run nothing.
  // tests/docs checks every pyhost command shown in the docs with it (docs/cli.md).
  if (parse_only_requested()) return kExitOk;
  setup_logging(log_level);
  for (const auto& command : commands)
    if (command.app->parsed()) return command.run();
  return kExitUsage;
}
