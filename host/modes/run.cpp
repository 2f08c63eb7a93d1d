// pyhost::run: from a plan to its results, whatever the mode.
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "modes/engine.hpp"
#include "mpi/mpi_run.hpp"
#include "pyhost/interpreter.hpp"
#include "report/journal.hpp"
#include "schedule/list_feed.hpp"

namespace pyhost {
namespace {

ModeEngine& engine_for(Engine kind) {
  switch (kind) {
    case Engine::InProcess:
      return in_process_engine();
    case Engine::WorkerProcesses:
      return processes_engine();
    case Engine::FreeThreaded:
      return freethreaded_engine();
  }
  return in_process_engine();
}

// The plan's tasks in this process, with the mode's engine.
RunResult run_here(const RunPlan& plan);

// --journal / --resume without MPI: the tasks not yet ok, each result appended to the journal.
RunResult run_with_journal(const RunPlan& plan) {
  std::map<int, TaskResult> resumed;
  if (!plan.resume_path.empty()) {
    for (auto& [id, task] : read_journal(plan.resume_path))
      if (task.status == TaskStatus::Ok && id < plan.tasks) resumed[id] = std::move(task);
    fmt::print(stderr, "pyhost: resuming: {} of {} tasks already ok in {}\n", resumed.size(),
               plan.tasks, plan.resume_path);
  }
  std::vector<int> todo;
  for (int task = 0; task < plan.tasks; ++task)
    if (!resumed.count(task)) todo.push_back(task);
  std::optional<JournalWriter> journal;
  if (!plan.journal_path.empty()) journal.emplace(plan.journal_path);
  ListFeed feed(std::move(todo), [&journal](const TaskResult& result) {
    if (journal) journal->append(result);
  });
  RunPlan local = plan;
  local.feed = &feed;
  local.record_output = plan.record_output || journal.has_value();
  RunResult result = run_here(local);
  // The resumed tasks were never handed out, so the board reported them "not run": their
  // journal records take those places (kept only where the plan keeps ok records).
  std::vector<TaskResult> records;
  records.reserve(result.tasks.size());
  for (auto& task : result.tasks) {
    auto it = resumed.find(task.id);
    if (it == resumed.end()) {
      records.push_back(std::move(task));
      continue;
    }
    result.tally.remove(task);
    result.tally.add(it->second);
    if (plan.keep_records == KeepRecords::All) records.push_back(std::move(it->second));
  }
  result.tasks = std::move(records);
  if (!plan.record_output)
    for (auto& task : result.tasks) task.stdout_text.clear(), task.stderr_text.clear();
  return result;
}

}  // namespace

std::optional<std::string> ModeEngine::unavailable(const ModeInfo&) const {
  return std::nullopt;
}

std::optional<std::string> mode_unavailable(const ModeInfo& mode) {
  return engine_for(mode.engine).unavailable(mode);
}

RunResult run(const RunPlan& requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const RunPlan plan = requested.resolved(cores);
  // Without --tasks, --engine mpi runs the script once (rank 0) and the other ranks serve its
  // pyhost.Executor(mode="mpi").
  if (plan.engine == "mpi" && !plan.feed)
    return mpi::run_across_ranks(plan, run, requested.tasks == 0);
  if ((!plan.journal_path.empty() || !plan.resume_path.empty()) && !plan.feed)
    return run_with_journal(plan);
  return run_here(plan);
}

namespace {

RunResult run_here(const RunPlan& plan) {
  const ModeInfo& mode = plan.mode_info();
  ModeEngine& engine = engine_for(mode.engine);
  if (auto why = engine.unavailable(mode))
    throw ModeUnavailable("mode '" + std::string(mode.name) + "' is not available: " + *why);
  if (!engine.needs_runtime()) return engine.run(plan, mode, nullptr);
  if (PythonRuntime* active = PythonRuntime::active()) return engine.run(plan, mode, active);

  auto runtime = std::make_unique<PythonRuntime>();
  RunResult result = engine.run(plan, mode, runtime.get());
  if (result.abandoned_workers == 0) {
    result.flush_failed = runtime->finalize() < 0;
  } else {
    // A worker stuck in C code past its timeout cannot be joined, and Python cannot be
    // finalised under it: leave the runtime to the process's exit.
    (void)runtime.release();
  }
  return result;
}

}  // namespace

}  // namespace pyhost
