#include "batch/attempt_outcome.hpp"
#include "util/process_info.hpp"

#include <fmt/format.h>

namespace pyhost::batch {

namespace {

// The first task of `run` with this status, or null.
const nlohmann::ordered_json* task_with_status(const nlohmann::ordered_json& run,
                                               std::string_view status) {
  if (!run.is_object() || !run.contains("tasks") || !run["tasks"].is_array()) return nullptr;
  for (const auto& task : run["tasks"])
    if (string_field(task, "status") == status) return &task;
  return nullptr;
}

}  // namespace

Outcome classify_attempt(const ExitStatus& exit, bool timed_out, std::optional<double> timeout_s,
                         const nlohmann::ordered_json& run) {
  if (timed_out)
    return {Status::Timeout, fmt::format("timed out after {:g} s", timeout_s.value_or(0))};
  if (exit.signal) return {Status::Crashed, fmt::format("killed by {}", signal_name(exit.signal))};
  int code = exit.exit_code.value_or(-1);
  if (code == 0) return {Status::Ok, ""};
  if (const auto* task = task_with_status(run, "timeout"))
    return {Status::Timeout,
            fmt::format("task {} timed out (exit code {})",
                        task->value("id", nlohmann::ordered_json(-1)).dump(), code)};
  if (const auto* task = task_with_status(run, "crashed"))
    return {Status::Crashed,
            fmt::format("task {} crashed (exit code {})",
                        task->value("id", nlohmann::ordered_json(-1)).dump(), code)};
  return {Status::Failed, fmt::format("exit code {}", code)};
}

}  // namespace pyhost::batch
