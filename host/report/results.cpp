#include "pyhost/results.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
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

void TaskTally::add(const TaskResult& task) {
  ++tasks;
  switch (task.status) {
    case TaskStatus::Ok:
      ++ok;
      break;
    case TaskStatus::Failed:
      ++failed;
      break;
    case TaskStatus::Crashed:
      ++crashed;
      break;
    case TaskStatus::Timeout:
      ++timeout;
      break;
  }
  cpu_s += task.cpu_s;
  peak_rss_kb = std::max(peak_rss_kb, task.peak_rss_kb);
}

void TaskTally::remove(const TaskResult& task) {
  --tasks;
  switch (task.status) {
    case TaskStatus::Ok:
      --ok;
      break;
    case TaskStatus::Failed:
      --failed;
      break;
    case TaskStatus::Crashed:
      --crashed;
      break;
    case TaskStatus::Timeout:
      --timeout;
      break;
  }
  cpu_s -= task.cpu_s;  // peak_rss_kb stays: a maximum cannot be taken back
}

bool RunResult::all_ok() const {
  if (tally.not_ok() > 0) return false;
  for (const auto& task : tasks)
    if (task.status != TaskStatus::Ok) return false;
  return true;
}

long RunResult::task_count() const {
  return std::max(tally.tasks, static_cast<long>(tasks.size()));
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
  if (task.rank >= 0) {
    doc["rank"] = task.rank;
    doc["host"] = task.host;
  }
  return doc;
}

namespace {

// The document of a run but its "tasks".
nlohmann::json run_json_without_tasks(const RunResult& run) {
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& worker : run.worker_info)
    workers.push_back({{"id", worker.id}, {"startup_s", worker.startup_s}});
  nlohmann::json doc = {{"mode", run.mode},     {"workers", run.workers},
                        {"python", run.python}, {"wall_s", run.wall_s},
                        {"worker_startup", workers}};
  const auto& gil = run.gil;
  doc["peak_rss_mb"] = run.peak_rss_kb ? nlohmann::json(*run.peak_rss_kb / 1024.0) : nlohmann::json();
  doc["gil_enabled_by"] =
      run.gil_enabled_by.empty() ? nlohmann::json() : nlohmann::json(run.gil_enabled_by);
  doc["gil_switches"] = gil ? nlohmann::json(gil->switches) : nlohmann::json();
  doc["gil_sampling"] = gil ? gil_sampling_json(*gil) : nlohmann::json();
  doc["gil_segments"] = gil ? gil_segments_json(gil->workers) : nlohmann::json();
  if (run.ranks > 0) doc["ranks"] = run.ranks;
  return doc;
}

std::string dump(const nlohmann::json& doc) {
  // Invalid UTF-8 from a script must not make the whole report unwritable.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json RunResult::to_json() const {
  nlohmann::json task_docs = nlohmann::json::array();
  for (const auto& task : tasks) task_docs.push_back(pyhost::to_json(task));
  nlohmann::json doc = run_json_without_tasks(*this);
  doc["tasks"] = std::move(task_docs);
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
  for (auto [key, field] : {std::pair{"gil_held_s", &TaskResult::gil_held_s},
                            std::pair{"gil_wait_s", &TaskResult::gil_wait_s},
                            std::pair{"off_cpu_s", &TaskResult::off_cpu_s}})
    if (auto it = item.find(key); it != item.end() && it->is_number())
      task.*field = it->get<double>();
  task.rank = value_or<int>(item, "rank", -1);
  task.host = value_or<std::string>(item, "host", "");
  return task;
}

// The GIL sampler's record of a run, when the document has one.
std::optional<GilRecord> gil_from_json(const nlohmann::json& doc) {
  auto sampling = doc.find("gil_sampling");
  if (sampling == doc.end() || !sampling->is_object()) return std::nullopt;
  GilRecord gil;
  gil.source = value_or<std::string>(*sampling, "source", "");
  gil.note = value_or<std::string>(*sampling, "note", "");
  gil.period_s = value_or<double>(*sampling, "period_s", 0);
  gil.samples = value_or<long>(*sampling, "samples", 0);
  gil.cpu_s = value_or<double>(*sampling, "cpu_s", 0);
  gil.resolution_s = value_or<double>(*sampling, "resolution_s", 0);
  gil.switches = value_or<long>(doc, "gil_switches", 0);
  if (auto it = doc.find("gil_segments"); it != doc.end() && it->is_array()) {
    for (const auto& worker : *it) {
      gil::WorkerTimeline timeline;
      timeline.worker = worker.at("worker").get<int>();
      timeline.interpreter = value_or<int>(worker, "interpreter", 0);
      for (const auto& segment : worker.at("segments")) {
        auto state = gil::parse_state(segment.at(2).get<std::string>());
        if (!state) throw std::runtime_error("bad GIL state in gil_segments");
        timeline.segments.push_back(
            {segment.at(0).get<double>(), segment.at(1).get<double>(), *state});
      }
      gil.workers.push_back(std::move(timeline));
    }
  }
  return gil;
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
    for (const auto& item : doc.at("tasks")) {
      run.tasks.push_back(task_from_json(item));
      run.tally.add(run.tasks.back());
    }
    run.gil = gil_from_json(doc);
    run.gil_enabled_by = value_or<std::string>(doc, "gil_enabled_by", "");
    return run;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(fmt::format("unexpected run JSON: {}", error.what()));
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(fmt::format("unexpected run JSON: {}", error.what()));
  }
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
  write_file_atomically(path, dump(doc) + "\n");
}

void write_json_atomically(const std::string& path, const RunResult& run) {
  nlohmann::json doc = run_json_without_tasks(run);
  doc["tasks"] = nullptr;  // where the records go, one at a time
  const std::string text = dump(doc) + "\n";
  // The top-level key: nested keys are indented further, and a newline in a string is escaped.
  const std::string_view key = "\n  \"tasks\": ";
  const std::size_t value = text.find(key) + key.size();
  write_file_atomically(path, [&](const FilePieces& write) {
    write(std::string_view(text).substr(0, value));
    if (run.tasks.empty()) write("[]");
    for (std::size_t i = 0; i < run.tasks.size(); ++i) {
      // Indented as inside the document: its lines 4 spaces further in.
      std::string item = dump(pyhost::to_json(run.tasks[i]));
      for (std::size_t at = item.find('\n'); at != std::string::npos; at = item.find('\n', at + 5))
        item.insert(at + 1, "    ");
      write(i == 0 ? "[\n    " : ",\n    ");
      write(item);
    }
    if (!run.tasks.empty()) write("\n  ]");
    write(std::string_view(text).substr(value + std::string_view("null").size()));
  });
}

namespace {

// This process's /proc/self/status, opened once and read with pread at every task's end: opening
// it per task was three more system calls a task, and under --sandbox a Landlock check of the
// path too (bench/RESULTS.md, the --sandbox section). Kept as pid << 32 | fd: a child forked
// from a process that had it open (the fork server's workers) inherits a descriptor that still
// shows its parent, so a process whose pid is not the one stored opens its own. Lock-free, so
// that a fork while another thread reads leaves no lock held in the child.
std::atomic<std::uint64_t> g_status{0};

int own_status_fd() {
  const auto pid = static_cast<std::uint32_t>(::getpid());
  std::uint64_t stored = g_status.load(std::memory_order_acquire);
  while (stored >> 32 != pid) {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    const std::uint64_t mine = (std::uint64_t{pid} << 32) | static_cast<std::uint32_t>(fd);
    if (g_status.compare_exchange_strong(stored, mine, std::memory_order_acq_rel)) {
      if (stored != 0) ::close(static_cast<int>(stored & 0xffffffffu));  // the parent's
      return fd;
    }
    ::close(fd);  // another thread of this process stored its own first: `stored` is that one
  }
  return static_cast<int>(stored & 0xffffffffu);
}

}  // namespace

long peak_rss_kb_self() {
  if (const int fd = own_status_fd(); fd >= 0) {
    char text[4096];
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    if (n > 0) {
      text[n] = '\0';
      long kb = -1;
      if (const char* line = std::strstr(text, "\nVmHWM:");
          line && std::sscanf(line + 1, "VmHWM: %ld kB", &kb) == 1 && kb >= 0)
        return kb;
    }
  }
  struct rusage self {};  // no /proc: the kernel's figure, which may include the pre-exec RSS
  ::getrusage(RUSAGE_SELF, &self);
  return self.ru_maxrss;
}

}  // namespace pyhost
