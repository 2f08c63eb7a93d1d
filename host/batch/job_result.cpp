#include "batch/job_result.hpp"

#include <array>

namespace pyhost::batch {

namespace {
constexpr std::array<std::string_view, 5> kStatusNames = {"ok", "failed", "crashed", "timeout",
                                                          "skipped"};

nlohmann::ordered_json optional_int(const std::optional<int>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}
nlohmann::ordered_json optional_string(const std::string& value) {
  return value.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(value);
}
// Where an attempt ran, with --engine mpi only: the results of a local batch stay as they were.
void add_place(nlohmann::ordered_json& j, const AttemptResult& a) {
  if (a.ranks.empty()) return;
  j["rank"] = a.ranks.front();
  j["host"] = a.hosts.empty() ? "" : a.hosts.front();
  j["ranks"] = a.ranks;
  j["hosts"] = a.hosts;
}
}  // namespace

std::string_view to_string(Status status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::optional<Status> status_from_string(std::string_view text) {
  for (size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == text) return static_cast<Status>(i);
  return std::nullopt;
}

nlohmann::ordered_json to_json(const AttemptResult& a) {
  nlohmann::ordered_json j = {
      {"attempt", a.attempt},
      {"status", to_string(a.status)},
      {"exit_code", optional_int(a.exit_code)},
      {"signal", optional_string(a.signal)},
      {"reason", optional_string(a.reason)},
      {"start_s", a.start_s},
      {"end_s", a.end_s},
      {"wall_s", a.wall_s},
      {"cpu_s", a.cpu_s},
      {"stdout_file", a.stdout_path},
      {"stderr_file", a.stderr_path},
      {"stdout_bytes", a.out.bytes},
      {"stderr_bytes", a.err.bytes},
  };
  add_place(j, a);
  return j;
}

nlohmann::ordered_json to_json(const JobResult& job) {
  nlohmann::ordered_json j = {
      {"name", job.name},
      {"status", to_string(job.status)},
      {"reason", optional_string(job.reason)},
      {"attempts", job.attempts.size()},
      {"tags", job.tags},
      {"needs", job.needs},
      {"fingerprint", job.fingerprint},
      {"resumed", false},
      {"interrupted", job.interrupted},
  };
  if (job.attempts.empty()) {
    for (const char* key : {"exit_code", "signal", "start_s", "end_s", "wall_s", "cpu_s", "stdout",
                            "stderr", "stdout_file", "stderr_file", "run"})
      j[key] = nullptr;
    j["command"] = nlohmann::ordered_json::array();
    j["history"] = nlohmann::ordered_json::array();
    return j;
  }
  const AttemptResult& last = job.attempts.back();
  double cpu = 0;
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const auto& a : job.attempts) {
    cpu += a.cpu_s;
    history.push_back(to_json(a));
  }
  j["exit_code"] = optional_int(last.exit_code);
  j["signal"] = optional_string(last.signal);
  j["start_s"] = job.attempts.front().start_s;
  j["end_s"] = last.end_s;
  j["wall_s"] = last.end_s - job.attempts.front().start_s;  // includes retry back-off
  j["cpu_s"] = cpu;
  j["stdout"] = last.out.text;
  j["stderr"] = last.err.text;
  j["stdout_truncated"] = last.out.truncated();
  j["stderr_truncated"] = last.err.truncated();
  j["stdout_file"] = last.stdout_path;
  j["stderr_file"] = last.stderr_path;
  j["command"] = job.command;
  j["history"] = std::move(history);
  j["run"] = last.run;
  add_place(j, last);
  return j;
}

std::string string_field(const nlohmann::ordered_json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::ordered_json strip_run_outputs(nlohmann::ordered_json run) {
  if (run.is_object() && run.contains("tasks") && run["tasks"].is_array())
    for (auto& task : run["tasks"])
      if (task.is_object()) {
        task.erase("stdout");
        task.erase("stderr");
      }
  return run;
}

}  // namespace pyhost::batch
