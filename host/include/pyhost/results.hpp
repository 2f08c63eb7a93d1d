// What a run produced: one record per task, the same shape in every mode (and in --json).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyhost {

enum class TaskStatus { Ok, Failed, Crashed, Timeout };

std::string_view to_string(TaskStatus status);

struct TaskResult {
  int id = 0;
  int worker = -1;  // -1: never started
  TaskStatus status = TaskStatus::Failed;
  int exit_code = 1;
  double start_s = 0, end_s = 0;  // since the run started
  double cpu_s = 0;               // CPU time of the thread or process that ran the task
  double runq_s = 0;              // time runnable but not running (scheduler run-queue delay)
  std::string stdout_text, stderr_text;
  bool stdout_truncated = false, stderr_truncated = false;
  std::string error;  // why the host marked it failed/crashed/timeout, if it did

  double wall_s() const { return end_s - start_s; }
};

struct WorkerInfo {
  int id = 0;
  double startup_s = 0;  // until the worker could take its first task
};

struct RunResult {
  std::string mode;
  int workers = 1;
  std::string python;
  double wall_s = 0;
  std::optional<long> peak_rss_kb;
  std::vector<WorkerInfo> worker_info;
  std::vector<TaskResult> tasks;

  bool all_ok() const;
};

nlohmann::json to_json(const TaskResult& task);
nlohmann::json to_json(const RunResult& run);

// Writes `doc` to `path` through a temporary file and rename, so readers never see half a file.
void write_json_atomically(const std::string& path, const nlohmann::json& doc);

// Peak resident set size of this process and of its waited-for children, in KiB.
long peak_rss_kb_self();

}  // namespace pyhost
