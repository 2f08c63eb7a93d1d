#include "pyhost/results.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "util/files.hpp"

namespace pyhost {

std::string_view to_string(TaskStatus status) {
  switch (status) {
    case TaskStatus::Ok:
      return "ok";
    case TaskStatus::Failed:
      return "failed";
    case TaskStatus::Crashed:
      return "crashed";
    case TaskStatus::Timeout:
      return "timeout";
  }
  return "failed";
}

std::optional<TaskStatus> task_status_from_string(std::string_view text) {
  for (TaskStatus status :
       {TaskStatus::Ok, TaskStatus::Failed, TaskStatus::Crashed, TaskStatus::Timeout})
    if (to_string(status) == text) return status;
  return std::nullopt;
}

bool RunResult::all_ok() const {
  for (const auto& task : tasks)
    if (task.status != TaskStatus::Ok) return false;
  return true;
}

double RunResult::startup_s() const {
  double latest = 0;
  for (const auto& worker : worker_info) latest = std::max(latest, worker.startup_s);
  return latest;
}

nlohmann::json to_json(const TaskResult& task) {
  nlohmann::json doc = {
      {"id", task.id},
      {"worker", task.worker},
      {"status", to_string(task.status)},
      {"exit_code", task.exit_code},
      {"start_s", task.start_s},
      {"end_s", task.end_s},
      {"wall_s", task.wall_s()},
      {"cpu_s", task.cpu_s},
      {"runq_s", task.runq_s},
      {"peak_rss_mb", task.peak_rss_kb / 1024.0},
      // Invalid UTF-8 from a script must not make the whole report unwritable.
      {"stdout", task.stdout_text},
      {"stderr", task.stderr_text},
  };
  if (task.stdout_truncated) doc["stdout_truncated"] = true;
  if (task.stderr_truncated) doc["stderr_truncated"] = true;
  if (!task.error.empty()) doc["error"] = task.error;
  if (task.rank >= 0) {
    doc["rank"] = task.rank;
    doc["host"] = task.host;
  }
  return doc;
}

nlohmann::json RunResult::to_json() const {
  nlohmann::json task_docs = nlohmann::json::array();
  for (const auto& task : tasks) task_docs.push_back(pyhost::to_json(task));
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& worker : worker_info)
    workers.push_back({{"id", worker.id}, {"startup_s", worker.startup_s}});
  nlohmann::json doc = {{"mode", mode},     {"workers", this->workers},  {"python", python},
                        {"wall_s", wall_s}, {"worker_startup", workers}, {"tasks", task_docs}};
  doc["peak_rss_mb"] = peak_rss_kb ? nlohmann::json(*peak_rss_kb / 1024.0) : nlohmann::json();
  if (ranks > 0) doc["ranks"] = ranks;
  return doc;
}

namespace {

template <typename T>
T value_or(const nlohmann::json& doc, const char* key, T fallback) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return fallback;
  return it->get<T>();
}

TaskResult task_from_json(const nlohmann::json& item) {
  TaskResult task;
  task.id = item.at("id").get<int>();
  task.worker = value_or<int>(item, "worker", -1);
  const std::string status = item.at("status").get<std::string>();
  auto parsed = task_status_from_string(status);
  if (!parsed)
    throw std::runtime_error(fmt::format("task {}: unknown status '{}'", task.id, status));
  task.status = *parsed;
  task.exit_code = value_or<int>(item, "exit_code", task.status == TaskStatus::Ok ? 0 : 1);
  task.start_s = value_or<double>(item, "start_s", 0);
  task.end_s = value_or<double>(item, "end_s", task.start_s);
  task.cpu_s = value_or<double>(item, "cpu_s", 0);
  task.runq_s = value_or<double>(item, "runq_s", 0);
  task.peak_rss_kb = static_cast<long>(value_or<double>(item, "peak_rss_mb", 0) * 1024);
  task.stdout_text = value_or<std::string>(item, "stdout", "");
  task.stderr_text = value_or<std::string>(item, "stderr", "");
  task.stdout_truncated = value_or<bool>(item, "stdout_truncated", false);
  task.stderr_truncated = value_or<bool>(item, "stderr_truncated", false);
  task.error = value_or<std::string>(item, "error", "");
  task.rank = value_or<int>(item, "rank", -1);
  task.host = value_or<std::string>(item, "host", "");
  return task;
}

}  // namespace

TaskResult task_result_from_json(const nlohmann::json& item) {
  return task_from_json(item);
}

RunResult RunResult::from_json(const nlohmann::json& doc) {
  try {
    if (!doc.is_object()) throw std::runtime_error("not a JSON object");
    RunResult run;
    run.mode = doc.at("mode").get<std::string>();
    run.workers = value_or<int>(doc, "workers", 1);
    run.python = value_or<std::string>(doc, "python", "");
    run.ranks = value_or<int>(doc, "ranks", 0);
    run.wall_s = doc.at("wall_s").get<double>();
    if (auto it = doc.find("peak_rss_mb"); it != doc.end() && it->is_number())
      run.peak_rss_kb = static_cast<long>(it->get<double>() * 1024);
    if (auto it = doc.find("worker_startup"); it != doc.end() && it->is_array()) {
      for (const auto& worker : *it) {
        const int id = worker.at("id").get<int>();
        if (id < 0 || id > 1'000'000) throw std::runtime_error("bad worker id");
        run.worker_info.push_back({id, worker.at("startup_s").get<double>()});
      }
    }
    for (const auto& item : doc.at("tasks")) run.tasks.push_back(task_from_json(item));
    return run;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(fmt::format("unexpected run JSON: {}", error.what()));
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(fmt::format("unexpected run JSON: {}", error.what()));
  }
}

void write_json_atomically(const std::string& path, const nlohmann::json& doc) {
  write_file_atomically(path,
                        doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

long peak_rss_kb_self() {
  struct rusage self {};
  ::getrusage(RUSAGE_SELF, &self);
  return self.ru_maxrss;
}

}  // namespace pyhost
