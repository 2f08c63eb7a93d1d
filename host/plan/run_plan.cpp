#include <fmt/format.h>

#include <filesystem>

#include "pyhost/run.hpp"

namespace pyhost {

std::string_view to_string(TaskTarget::Kind kind) {
  switch (kind) {
    case TaskTarget::Kind::Script:
      return "script";
    case TaskTarget::Kind::Module:
      return "module";
    case TaskTarget::Kind::Code:
      return "code";
  }
  return "script";
}

std::string_view to_string(Engine engine) {
  return engine == Engine::Mpi ? "mpi" : "local";
}

std::string_view to_string(Schedule schedule) {
  return schedule == Schedule::Static ? "static" : "dynamic";
}

const ModeInfo& RunPlan::mode_info() const {
  const ModeInfo* info = find_mode(mode);
  if (!info) throw PlanError(fmt::format("unknown mode '{}' ({})", mode, mode_names()));
  return *info;
}

bool RunPlan::is_plain_python() const {
  // One task without a GIL on the main interpreter is `python3.13t` itself, as serial's is `python`.
  const ModeInfo& mode = mode_info();
  const bool like_python =
      mode.baseline || (mode.no_gil && mode.interpreter == WorkerInterpreter::Main);
  return like_python && tasks == 1 && echo_output;
}

RunPlan RunPlan::resolved(int cores) const {
  const ModeInfo& info = mode_info();
  if (workers < 0) throw PlanError("workers must be at least 1");
  if (tasks < 0) throw PlanError("tasks must be at least 1");
  if (timeout_s < 0 || kill_after_s < 0) throw PlanError("timeouts must not be negative");
  if (engine == Engine::Local && schedule != Schedule::Dynamic)
    throw PlanError("--schedule is for --engine mpi");
  if (sandbox.enabled && mode != "processes")
    throw PlanError("--sandbox confines worker processes: it needs --mode processes");
  RunPlan plan = *this;
  if (plan.workers == 0) plan.workers = info.default_workers(std::max(1, cores));
  if (plan.tasks == 0) plan.tasks = plan.workers;
  if (target.value.empty() && target.kind != TaskTarget::Kind::Code)
    throw PlanError("nothing to run: give a SCRIPT, -m MODULE or -c CODE");
  if (target.kind == TaskTarget::Kind::Script) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(target.value, ec))
      throw PlanError(fmt::format("can't open file '{}': {}", target.value,
                                  std::filesystem::exists(target.value, ec)
                                      ? "not a regular file"
                                      : "No such file or directory"));
  }
  return plan;
}

std::vector<std::string> RunPlan::to_argv(const std::string& json_path) const {
  std::vector<std::string> argv = {"run", "--mode", mode};
  if (workers > 0) argv.insert(argv.end(), {"--workers", std::to_string(workers)});
  if (tasks > 0) argv.insert(argv.end(), {"--tasks", std::to_string(tasks)});
  if (output == OutputStyle::Grouped) argv.insert(argv.end(), {"--output", "grouped"});
  if (timeout_s > 0) argv.insert(argv.end(), {"--timeout", fmt::format("{}", timeout_s)});
  if (kill_after_s != RunPlan{}.kill_after_s)
    argv.insert(argv.end(), {"--kill-after", fmt::format("{}", kill_after_s)});
  if (memory_limit_mb > 0)
    argv.insert(argv.end(), {"--memory-limit", std::to_string(memory_limit_mb)});
  if (fresh_workers) argv.push_back("--fresh-workers");
  for (auto& word : sandbox.to_argv()) argv.push_back(std::move(word));
  if (engine != Engine::Local) argv.insert(argv.end(), {"--engine", std::string(to_string(engine))});
  if (engine != Engine::Local && schedule != RunPlan{}.schedule)
    argv.insert(argv.end(), {"--schedule", std::string(to_string(schedule))});
  if (!journal_path.empty()) argv.insert(argv.end(), {"--journal", journal_path});
  if (!resume_path.empty()) argv.insert(argv.end(), {"--resume", resume_path});
  if (!json_path.empty()) argv.insert(argv.end(), {"--json", json_path});
  switch (target.kind) {
    case TaskTarget::Kind::Script:
      // "--": a script whose name starts with '-' is still the script.
      argv.insert(argv.end(), {"--", target.value});
      break;
    case TaskTarget::Kind::Module:
      argv.insert(argv.end(), {"-m", target.value});
      break;
    case TaskTarget::Kind::Code:
      argv.insert(argv.end(), {"-c", target.value});
      break;
  }
  argv.insert(argv.end(), target.args.begin(), target.args.end());
  return argv;
}

}  // namespace pyhost
