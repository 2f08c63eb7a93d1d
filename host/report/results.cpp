#include "pyhost/results.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

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

bool RunResult::all_ok() const {
  for (const auto& task : tasks)
    if (task.status != TaskStatus::Ok) return false;
  return true;
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
  auto optional = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  doc["gil_held_s"] = optional(task.gil_held_s);
  doc["gil_wait_s"] = optional(task.gil_wait_s);
  doc["off_cpu_s"] = optional(task.off_cpu_s);
  if (task.stdout_truncated) doc["stdout_truncated"] = true;
  if (task.stderr_truncated) doc["stderr_truncated"] = true;
  if (!task.error.empty()) doc["error"] = task.error;
  return doc;
}

nlohmann::json to_json(const RunResult& run) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& task : run.tasks) tasks.push_back(to_json(task));
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& worker : run.worker_info)
    workers.push_back({{"id", worker.id}, {"startup_s", worker.startup_s}});
  nlohmann::json doc = {{"mode", run.mode},     {"workers", run.workers},    {"python", run.python},
                        {"wall_s", run.wall_s}, {"worker_startup", workers}, {"tasks", tasks}};
  doc["peak_rss_mb"] =
      run.peak_rss_kb ? nlohmann::json(*run.peak_rss_kb / 1024.0) : nlohmann::json();
  doc["gil_switches"] = run.gil ? nlohmann::json(run.gil->switches) : nlohmann::json();
  doc["gil_sampling"] = run.gil ? gil_sampling_json(*run.gil) : nlohmann::json();
  doc["gil_segments"] = run.gil ? gil_segments_json(run.gil->workers) : nlohmann::json();
  return doc;
}

nlohmann::json gil_sampling_json(const GilRecord& gil) {
  return {{"source", gil.source},   {"note", gil.note},
          {"period_s", gil.period_s}, {"samples", gil.samples},
          {"resolution_s", gil.resolution_s}, {"cpu_s", gil.cpu_s}};
}

nlohmann::json gil_segments_json(const std::vector<GilWorkerTimeline>& timelines) {
  // Compact: per worker, [start_s, end_s, state] rounded to 10 µs (samples are 1 ms apart).
  auto round = [](double s) { return std::round(s * 1e5) / 1e5; };
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& worker : timelines) {
    nlohmann::json segments = nlohmann::json::array();
    for (const auto& s : worker.segments) {
      const double start = round(s.start_s), end = round(s.end_s);
      if (end <= start) continue;  // shorter than the rounding
      const std::string_view state = gil::to_string(s.state);
      if (!segments.empty() && segments.back()[2] == state) {
        segments.back()[1] = end;  // joined across what was dropped
        continue;
      }
      segments.push_back({start, end, state});
    }
    workers.push_back({{"worker", worker.worker},
                       {"interpreter", worker.interpreter},
                       {"segments", std::move(segments)}});
  }
  return workers;
}

void write_json_atomically(const std::string& path, const nlohmann::json& doc) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path temp = target;
  temp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + temp.string());
    out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temp.string());
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot write " + target.string() + ": " + ec.message());
  }
}

long peak_rss_kb_self() {
  struct rusage self {};
  ::getrusage(RUSAGE_SELF, &self);
  return self.ru_maxrss;
}

}  // namespace pyhost
