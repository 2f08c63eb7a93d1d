// `pyhost run`: one script as K tasks over N workers in one execution mode.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "cli/command.hpp"
#include "cli/run_words.hpp"
#include "pyhost/host_signals.hpp"
#include "pyhost/interpreter.hpp"
#include "pyhost/process_pool.hpp"
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
  double timeout_s = 0;
  double kill_after_s = 2.0;
  long memory_limit_mb = 0;
  bool fresh_workers = false;
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

// Writes --json and the summary; returns the exit code of the run.
int report_run(const RunResult& result, const RunPlan& plan, const std::string& json_path,
               int finalize_status) {
  if (!json_path.empty()) {
    try {
      write_json_atomically(json_path, to_json(result));
    } catch (const std::exception& failure) {
      fmt::print(stderr, "pyhost: {}\n", failure.what());
      return kExitFailure;
    }
  }
  // One plain task reports like python; the host speaks up when it ended the task itself.
  const bool host_ended_it =
      !result.tasks.empty() && (result.tasks.front().status == TaskStatus::Timeout ||
                                result.tasks.front().status == TaskStatus::Crashed);
  if (plan.tasks > 1 || host_ended_it || result.stopped_by_signal) print_summary(result, plan);
  if (result.stopped_by_signal != 0) return exit_code_for_signal(result.stopped_by_signal);
  if (finalize_status < 0) return 120;  // as python does when flushing at exit fails
  if (plan.tasks == 1) {
    const TaskResult& task = result.tasks.front();
    if (task.status == TaskStatus::Ok || task.status == TaskStatus::Failed)
      return task.exit_code & 0xff;
    return kExitFailure;
  }
  return result.all_ok() ? kExitOk : kExitFailure;
}

int run(const RunArgs& args) {
  RunPlan plan;
  auto mode = parse_mode(args.mode);
  if (!mode)
    return usage_error(
        fmt::format("unknown mode '{}' (serial, threads, subinterpreters, processes)", args.mode));
  plan.mode = *mode;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  plan.workers = args.workers > 0 ? args.workers : (plan.mode == Mode::Serial ? 1 : cores);
  plan.tasks = args.tasks > 0 ? args.tasks : plan.workers;
  plan.output = args.output == "grouped" ? OutputStyle::Grouped : OutputStyle::Prefixed;
  plan.record_output = !args.json_path.empty();
  plan.timeout_s = args.timeout_s;
  plan.kill_after_s = args.kill_after_s;
  plan.memory_limit_mb = args.memory_limit_mb;
  plan.fresh_workers = args.fresh_workers;
  std::string error;
  auto target = parse_target(run_target_words(), error);
  if (!target) return usage_error(error);
  plan.target = std::move(*target);

  if (plan.mode == Mode::Processes) {
    // The host of worker processes needs no interpreter of its own.
    RunResult result = run_in_processes(plan);
    return report_run(result, plan, args.json_path, 0);
  }

  RunResult result;
  int finalize_status = 0;
  std::optional<PythonRuntime> runtime;
  try {
    runtime.emplace();
    result = run_in_process(*runtime, plan);
    // A worker stuck in C code past its timeout cannot be joined, and Python cannot be
    // finalised under it: report, then leave without finalising.
    if (result.abandoned_workers == 0) finalize_status = runtime->finalize();
  } catch (const std::exception& failure) {
    fmt::print(stderr, "pyhost: {}\n", failure.what());
    return kExitFailure;
  }
  int code = report_run(result, plan, args.json_path, finalize_status);
  if (result.abandoned_workers > 0) {
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* app =
      parent.add_subcommand("run",
                            "Run a script (or -m MODULE, -c CODE) as K tasks over N workers.\n"
                            "Usage: pyhost run [OPTIONS] (SCRIPT | -m MODULE | -c CODE) [ARGS...]");
  app->add_option("--mode", args->mode, "serial | threads | subinterpreters | processes")
      ->check(CLI::IsMember({"serial", "threads", "subinterpreters", "processes"}));
  app->add_option("-j,--workers", args->workers, "workers (default: cores; 1 for serial)")
      ->check(CLI::PositiveNumber);
  app->add_option("--tasks", args->tasks,
                  "times the script runs, as tasks 0..K-1 (default: workers)")
      ->check(CLI::PositiveNumber);
  app->add_option("--json", args->json_path, "write the results of the run to this file");
  app->add_option("--output", args->output, "prefixed (lines as they come) | grouped (per task)")
      ->check(CLI::IsMember({"prefixed", "grouped"}));
  app->add_option("--timeout", args->timeout_s,
                  "seconds per task: TimeoutError is raised in the task at the deadline")
      ->check(CLI::PositiveNumber);
  app->add_option("--kill-after", args->kill_after_s,
                  "seconds after the timeout (or Ctrl-C) before a task still running is killed "
                  "(processes) or abandoned (default 2)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--memory-limit", args->memory_limit_mb, "MB of address space per worker process")
      ->check(CLI::PositiveNumber);
  app->add_flag("--fresh-workers", args->fresh_workers,
                "processes mode: a new worker process for every task");
  return {app, [args] { return run(*args); }};
}

}  // namespace pyhost::cli

namespace pyhost::cli {

// `pyhost __worker`: a worker process of processes mode (hidden: started by pyhost itself).
Command add_worker_command(CLI::App& parent) {
  auto memory_limit_mb = std::make_shared<long>(0);
  CLI::App* app = parent.add_subcommand("__worker", "");
  app->group("");  // not listed in --help
  app->add_option("--memory-limit", *memory_limit_mb);
  return {app, [memory_limit_mb] { return run_worker_process(*memory_limit_mb); }};
}

}  // namespace pyhost::cli
