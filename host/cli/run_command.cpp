// `pyhost run`: one script as K tasks over N workers in one execution mode.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "cli/command.hpp"
#include "cli/run_words.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/python_error.hpp"
#include "pyhost/results.hpp"
#include "pyhost/run.hpp"

namespace pyhost::cli {
namespace {

struct RunArgs {
  std::string mode = "serial";
  int workers = 0;  // 0: number of cores for parallel modes, 1 for serial
  int tasks = 0;    // 0: as many as workers
  std::string json_path;
  std::string output = "prefixed";
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "pyhost run: error: {}\n", message);
  return kExitUsage;
}

// Builds the target from the words after the options; empty optional + message on misuse.
std::optional<TaskTarget> parse_target(const std::vector<std::string>& words, std::string& error) {
  if (words.empty()) {
    error = "nothing to run: give a SCRIPT, -m MODULE or -c CODE";
    return std::nullopt;
  }
  TaskTarget target;
  std::size_t rest = 1;
  if (words[0] == "-m" || words[0] == "-c") {
    if (words.size() < 2) {
      error = "argument expected for the " + words[0] + " option";
      return std::nullopt;
    }
    target.kind = words[0] == "-m" ? TaskTarget::Kind::Module : TaskTarget::Kind::Code;
    target.value = words[1];
    rest = 2;
  } else {
    target.kind = TaskTarget::Kind::Script;
    target.value = words[0];
    std::error_code ec;
    if (!std::filesystem::is_regular_file(target.value, ec)) {
      error = fmt::format("can't open file '{}': {}", target.value,
                          std::filesystem::exists(target.value, ec) ? "not a regular file"
                                                                    : "No such file or directory");
      return std::nullopt;
    }
  }
  target.args.assign(words.begin() + static_cast<long>(rest), words.end());
  return target;
}

void print_summary(const RunResult& result, const RunPlan& plan) {
  int ok = 0;
  for (const auto& task : result.tasks) {
    if (task.status == TaskStatus::Ok) {
      ++ok;
      continue;
    }
    std::string why = task.error.empty() ? fmt::format("exit code {}", task.exit_code) : task.error;
    fmt::print(stderr, "pyhost: task {} {}: {}\n", task.id, to_string(task.status), why);
  }
  fmt::print(stderr, "pyhost: {}/{} tasks ok in {:.3f} s ({}, {} workers)\n", ok,
             result.tasks.size(), result.wall_s, to_string(plan.mode), plan.workers);
}

int run(const RunArgs& args) {
  RunPlan plan;
  auto mode = parse_mode(args.mode);
  if (!mode) return usage_error(fmt::format("unknown mode '{}' (serial, threads, subinterpreters)", args.mode));
  plan.mode = *mode;
  if (plan.mode == Mode::Processes)
    return usage_error("--mode processes is not available yet in this build");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  plan.workers = args.workers > 0 ? args.workers : (plan.mode == Mode::Serial ? 1 : cores);
  plan.tasks = args.tasks > 0 ? args.tasks : plan.workers;
  plan.output = args.output == "grouped" ? OutputStyle::Grouped : OutputStyle::Prefixed;
  plan.record_output = !args.json_path.empty();
  std::string error;
  auto target = parse_target(run_target_words(), error);
  if (!target) return usage_error(error);
  plan.target = std::move(*target);

  RunResult result;
  int finalize_status = 0;
  try {
    PythonRuntime runtime;
    result = run_in_process(runtime, plan);
    finalize_status = runtime.finalize();
  } catch (const std::exception& failure) {
    fmt::print(stderr, "pyhost: {}\n", failure.what());
    return kExitFailure;
  }

  if (!args.json_path.empty()) {
    try {
      write_json_atomically(args.json_path, to_json(result));
    } catch (const std::exception& failure) {
      fmt::print(stderr, "pyhost: {}\n", failure.what());
      return kExitFailure;
    }
  }
  if (plan.tasks > 1) print_summary(result, plan);
  if (finalize_status < 0) return 120;  // as python does when flushing at exit fails
  if (plan.tasks == 1) return result.tasks.front().exit_code & 0xff;
  return result.all_ok() ? kExitOk : kExitFailure;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* app = parent.add_subcommand(
      "run", "Run a script (or -m MODULE, -c CODE) as K tasks over N workers.\n"
             "Usage: pyhost run [OPTIONS] (SCRIPT | -m MODULE | -c CODE) [ARGS...]");
  app->add_option("--mode", args->mode, "serial | threads | subinterpreters")
      ->check(CLI::IsMember({"serial", "threads", "subinterpreters", "processes"}));
  app->add_option("-j,--workers", args->workers, "workers (default: cores; 1 for serial)")
      ->check(CLI::PositiveNumber);
  app->add_option("--tasks", args->tasks, "times the script runs, as tasks 0..K-1 (default: workers)")
      ->check(CLI::PositiveNumber);
  app->add_option("--json", args->json_path, "write the results of the run to this file");
  app->add_option("--output", args->output, "prefixed (lines as they come) | grouped (per task)")
      ->check(CLI::IsMember({"prefixed", "grouped"}));
  return {app, [args] { return run(*args); }};
}

}  // namespace pyhost::cli
