// pyhost::run: from a plan to its results, whatever the mode and engine. The plan is resolved
// and checked against what its mode's backend can do; `--engine mpi` hands it to the ranks,
// `--journal`/`--resume` put a journal around it; then the backend runs the tasks.
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "backends/backend.hpp"
#include "mpi/rank_session.hpp"
#include "pyhost/interpreter.hpp"
#include "report/journal.hpp"
#include "schedule/list_feed.hpp"

namespace pyhost {
namespace {

// The plan's tasks in this process, by the mode's backend, from `feed` when there is one.
RunResult run_here(const RunPlan& plan, TaskFeed* feed) {
  const ModeInfo& mode = plan.mode_info();
  ModeBackend& backend = backend_for(mode.backend);
  if (auto why = backend.unavailable(mode))
    throw ModeUnavailable("mode '" + std::string(mode.name) + "' is not available: " + *why);
  RunContext context{.feed = feed, .runtime = nullptr};
  if (!backend.traits().needs_runtime) return backend.run(plan, mode, context);
  if (PythonRuntime* active = PythonRuntime::active()) {
    context.runtime = active;
    return backend.run(plan, mode, context);
  }
  auto runtime = std::make_unique<PythonRuntime>();
  context.runtime = runtime.get();
  RunResult result = backend.run(plan, mode, context);
  if (result.abandoned_workers == 0) {
    result.flush_failed = runtime->finalize() < 0;
  } else {
    // A worker stuck in C code past its timeout cannot be joined, and Python cannot be
    // finalised under it: leave the runtime to the process's exit.
    (void)runtime.release();
  }
  return result;
}

// --journal / --resume without MPI: the tasks not yet ok, each result appended to the journal.
RunResult run_with_journal(const RunPlan& plan) {
  ResumedTasks resumed = resume_tasks(plan.tasks, plan.resume_path);
  std::optional<JournalWriter> journal;
  if (!plan.journal_path.empty()) journal.emplace(plan.journal_path);
  ListFeed feed(std::move(resumed.todo), [&journal](const TaskResult& result) {
    if (journal) journal->append(result);
  });
  RunPlan local = plan;
  local.record_output = plan.record_output || journal.has_value();
  RunResult result = run_here(local, &feed);
  // The resumed tasks were never handed out, so the board reported them "not run": their
  // journal records take those places (kept only where the plan keeps ok records).
  std::vector<TaskResult> records;
  records.reserve(result.tasks.size());
  for (auto& task : result.tasks) {
    auto it = resumed.ok.find(task.id);
    if (it == resumed.ok.end()) {
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

std::optional<std::string> ModeBackend::unavailable(const ModeInfo&) const {
  return std::nullopt;
}

ModeBackend& backend_for(Backend kind) {
  switch (kind) {
    case Backend::InProcess:
      return in_process_backend();
    case Backend::WorkerProcesses:
      return processes_backend();
    case Backend::FreeThreaded:
      return freethreaded_backend();
  }
  return in_process_backend();
}

bool backend_takes_feed(const ModeInfo& mode) {
  return backend_for(mode.backend).traits().takes_feed;
}

std::optional<std::string> mode_unavailable(const ModeInfo& mode) {
  return backend_for(mode.backend).unavailable(mode);
}

RunResult run(const RunPlan& requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const RunPlan plan = requested.resolved(cores);
  const ModeInfo& mode = plan.mode_info();
  const BackendTraits traits = backend_for(mode.backend).traits();
  check_plan_for_backend(plan, mode, traits);
  // Without --tasks, --engine mpi runs the script once (rank 0) and the other ranks serve its
  // pyhost.Executor(mode="mpi").
  if (plan.engine == Engine::Mpi)
    return mpi::run_across_ranks(plan, run_here, requested.tasks == 0);
  const bool journalled = !plan.journal_path.empty() || !plan.resume_path.empty();
  if (journalled && !traits.hands_on_whole_plan) return run_with_journal(plan);
  return run_here(plan, nullptr);
}

}  // namespace pyhost
