// `pyhost run`: one script as K tasks over N workers in one execution mode. This file only turns
// words into a RunPlan and a RunResult into output and an exit code; pyhost::run does the rest.
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "backends/backend.hpp"
#include "cli/command.hpp"
#include "cli/run_words.hpp"
#include "cli/sandbox_options.hpp"
#include "pyhost/python_error.hpp"
#include "pyhost/run.hpp"
#include "util/companion.hpp"
#include "util/host_signals.hpp"
#include "worker/worker_process.hpp"

namespace pyhost::cli {
namespace {

struct RunArgs {
  RunPlan plan;
  std::string output = "prefixed";
  std::string json_path;
  bool summary = true;  // off for a run another pyhost reports (the freethreaded companion's)
};

int run_usage_error(const std::string& message) {
  fmt::print(stderr, "pyhost run: error: {}\n", message);
  return kExitUsage;
}

// The target from the words after the options; empty optional + message on misuse.
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
  }
  target.args.assign(words.begin() + static_cast<long>(rest), words.end());
  return target;
}

// Every task not ok (the records a run without --json keeps), then the counts.
void print_summary(const RunResult& result) {
  for (const auto& task : result.tasks) {
    if (task.status == TaskStatus::Ok) continue;
    std::string why = task.error.empty() ? fmt::format("exit code {}", task.exit_code) : task.error;
    fmt::print(stderr, "pyhost: task {} {}: {}\n", task.id, to_string(task.status), why);
  }
  const long ok = result.tally.ok, count = result.task_count();
  if (result.ranks > 0)
    fmt::print(stderr, "pyhost: {}/{} tasks ok in {:.3f} s ({} ranks x {}, {} workers each)\n", ok,
               count, result.wall_s, result.ranks, result.mode, result.workers);
  else
    fmt::print(stderr, "pyhost: {}/{} tasks ok in {:.3f} s ({}, {} workers)\n", ok, count,
               result.wall_s, result.mode, result.workers);
}

// `--engine mpi --mode freethreaded` in the default build: the companion pyhost-ft, which runs
// the mode's tasks, cannot take them one by one from this rank (its backend takes no feed), so it
// becomes the rank: this process execs it with the same words, before MPI is initialised (the
// launcher's environment goes along). Returns when there is nothing to do (or no companion, which
// pyhost::run() then reports).
void become_companion_for_mpi(const RunPlan& plan) {
  const ModeInfo* mode = find_mode(plan.mode);
  if (!mode || mode->backend != Backend::FreeThreaded) return;
  if (backend_takes_feed(*mode)) return;  // this is the free-threaded build: it runs them itself
  const auto companion = find_freethreaded_companion();
  if (!companion) return;
  std::vector<std::string> words = raw_argv();
  words[0] = companion->string();
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  ::setenv(kFreethreadedCompanionEnv, "", 1);  // the companion runs the tasks itself
  std::fflush(nullptr);
  ::execv(argv[0], argv.data());
  fmt::print(stderr, "pyhost: cannot start the free-threaded companion {}: {}\n", words[0],
             std::strerror(errno));
  std::exit(kExitFailure);
}

// Writes --json and the summary; returns the exit code of the run.
int report_run(const RunResult& result, const std::string& json_path, bool summary) {
  if (result.rank > 0) return kExitOk;  // --engine mpi: rank 0 reports the run
  if (!json_path.empty()) {
    try {
      write_json_atomically(json_path, result);
    } catch (const std::exception& failure) {
      fmt::print(stderr, "pyhost: {}\n", failure.what());
      return kExitFailure;
    }
  }
  const bool one_task = result.task_count() == 1;
  // The one task's record: kept unless it was ok (then its exit code is 0).
  const TaskResult* only = one_task && !result.tasks.empty() ? &result.tasks.front() : nullptr;
  // One plain task reports like python; the host speaks up when it ended the task itself.
  const bool host_ended_it =
      only && (only->status == TaskStatus::Timeout || only->status == TaskStatus::Crashed);
  if (summary && (!one_task || host_ended_it || result.stopped_by_signal)) print_summary(result);
  if (result.stopped_by_signal != 0) return exit_code_for_signal(result.stopped_by_signal);
  if (result.flush_failed) return kExitFlushFailed;  // as python does when flushing at exit fails
  if (one_task) {
    if (!only) return kExitOk;
    if (only->status == TaskStatus::Ok || only->status == TaskStatus::Failed)
      return only->exit_code & 0xff;
    return kExitFailure;
  }
  return result.all_ok() ? kExitOk : kExitFailure;
}

int run_command(RunArgs& args) {
  std::string error;
  auto target = parse_target(run_target_words(), error);
  if (!target) return run_usage_error(error);
  RunPlan plan = args.plan;
  plan.target = std::move(*target);
  plan.output = args.output == "grouped" ? OutputStyle::Grouped : OutputStyle::Prefixed;
  plan.record_output = !args.json_path.empty();
  // Without --json only the tasks that are not ok are printed: the others are counted, not
  // kept, so that memory stays flat however many tasks run (--journal streams every record).
  plan.keep_records = args.json_path.empty() ? KeepRecords::Failures : KeepRecords::All;

  if (plan.engine == Engine::Mpi) become_companion_for_mpi(plan);

  RunResult result;
  try {
    result = run(plan);
  } catch (const PlanError& failure) {
    return run_usage_error(failure.what());
  } catch (const ModeUnavailable& failure) {
    fmt::print(stderr, "pyhost run: error: {}\n", failure.what());
    return kExitUnavailable;
  } catch (const PythonExit& exit) {
    return exit.code();
  } catch (const SandboxUnavailable& failure) {
    fmt::print(stderr, "pyhost run: error: {}\n", failure.what());
    return kExitSandboxUnavailable;
  } catch (const std::exception& failure) {
    fmt::print(stderr, "pyhost: {}\n", failure.what());
    return kExitFailure;
  }
  const int code = report_run(result, args.json_path, args.summary);
  if (result.abandoned_workers > 0) {
    // Python is still initialised under a thread stuck in C code: leave without finalising.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

std::vector<std::string> mode_choices() {
  std::vector<std::string> names;
  for (const auto& mode : all_modes()) names.emplace_back(mode.name);
  return names;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  auto args = std::make_shared<RunArgs>();
  RunPlan& plan = args->plan;
  CLI::App* app = parent.add_subcommand(
      "run",
      "Run a script (or -m MODULE, -c CODE) as K tasks over N workers.\n"
      "Synopsis: pyhost run [OPTIONS] (SCRIPT | -m MODULE | -c CODE) [ARGS...]");
  app->add_option("--mode", plan.mode, "execution mode: " + mode_names())
      ->check(CLI::IsMember(mode_choices()));
  app->add_option("-j,--workers", plan.workers, "workers (default: cores; 1 for serial)")
      ->check(CLI::PositiveNumber);
  app->add_option("--tasks", plan.tasks,
                  "times the script runs, as tasks 0..K-1 (default: workers; --engine mpi: "
                  "once, on rank 0, the other ranks serving its pyhost.Executor(mode='mpi'))")
      ->check(CLI::PositiveNumber);
  app->add_option("--json", args->json_path, "write the results of the run to this file");
  app->add_option("--output", args->output, "prefixed (lines as they come) | grouped (per task)")
      ->check(CLI::IsMember({"prefixed", "grouped"}));
  app->add_option("--timeout", plan.timeout_s,
                  "seconds per task: TimeoutError is raised in the task at the deadline")
      ->check(CLI::PositiveNumber);
  app->add_option("--kill-after", plan.kill_after_s,
                  "seconds after the timeout (or Ctrl-C) before a task still running is killed "
                  "(processes) or abandoned (default 2)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--memory-limit", plan.memory_limit_mb, "MB of address space per worker process")
      ->check(CLI::PositiveNumber);
  app->add_flag("--fresh-workers", plan.fresh_workers,
                "processes mode: a new worker process for every task");
  add_sandbox_options(*app, plan.sandbox);
  app->add_flag("--no-summary{false}", args->summary, "")->group("");  // see RunArgs::summary
  // Enums through a function: CLI11 2.1 (Debian 12) cannot bind an enum variable directly.
  app->add_option_function<std::string>(
         "--engine", [&plan](const std::string&) { plan.engine = Engine::Mpi; },
         "mpi: run across the ranks of an MPI job (under mpirun/srun), each rank in "
         "--mode with -j workers")
      ->check(CLI::IsMember({"mpi"}));
  app->add_option_function<std::string>(
         "--schedule",
         [&plan](const std::string& name) {
           plan.schedule = name == "static" ? Schedule::Static : Schedule::Dynamic;
         },
         "--engine mpi: dynamic (ranks ask rank 0 for tasks, default) | static "
         "(task k on rank k mod R)")
      ->check(CLI::IsMember({"dynamic", "static"}));
  app->add_option("--journal", plan.journal_path,
                  "append each finished task to this file (one JSON line each, fsync'ed)");
  app->add_option("--resume", plan.resume_path,
                  "skip the tasks that are ok in this journal (from an earlier --journal)");
  return {app, [args] { return run_command(*args); }};
}

// `pyhost __worker`: a worker process of processes mode (hidden: started by pyhost itself).
Command add_worker_command(CLI::App& parent) {
  auto memory_limit_mb = std::make_shared<long>(0);
  auto sandbox_spec = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand("__worker", "");
  app->group("");  // not listed in --help
  app->add_option("--memory-limit", *memory_limit_mb);
  app->add_option("--sandbox", *sandbox_spec);
  return {app, [memory_limit_mb, sandbox_spec] {
            return run_worker_process(*memory_limit_mb, *sandbox_spec);
          }};
}

}  // namespace pyhost::cli
