// run_batch(): load and check the job file, plan, run, write the results.
#include "batch/batch.hpp"

#include "batch/attempt_runner.hpp"

#include "batch/child_process.hpp"
#include "batch/job_command.hpp"
#include "batch/job_file.hpp"
#include "batch/job_graph.hpp"
#include "batch/junit.hpp"
#include "batch/progress.hpp"
#include "batch/results_file.hpp"
#include "batch/scheduler.hpp"
#include "batch/signal_watcher.hpp"
#include "util/files.hpp"
#include "util/process_info.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join: there from fmt 11 on
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <regex>
#include <set>
#include <thread>

#ifndef PYHOST_VERSION
#define PYHOST_VERSION "unknown"
#endif

namespace pyhost::batch {

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

struct Plan {
  std::vector<PlannedJob> jobs;
  std::vector<bool> pulled;  // per plan entry: only needed by --only jobs
  std::map<std::string, nlohmann::ordered_json>
      carried;                                    // resumed ok jobs, as they will be written
  std::map<std::string, std::string> rerun_note;  // why a job ok in --resume runs again
};

std::string utc_now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Plan make_plan(const JobFile& file, const Selection& selection,
               const std::map<std::string, nlohmann::ordered_json>& previous, bool resuming) {
  Plan plan;
  std::map<std::string, size_t> position;
  for (size_t index : topological_order(file)) {
    if (!selection.selected[index]) continue;
    const JobSpec& spec = file.jobs[index];
    PlannedJob job{&spec, {}, false};
    for (const auto& need : spec.needs) job.needs.push_back(position.at(need));
    if (auto it = previous.find(spec.name); resuming && it != previous.end()) {
      const nlohmann::ordered_json& old = it->second;
      const bool ok = string_field(old, "status") == "ok";
      const std::string old_print = string_field(old, "fingerprint");
      if (ok && (old_print.empty() || old_print == fingerprint(spec))) {
        job.already_ok = true;
        nlohmann::ordered_json carried = old;
        carried["resumed"] = true;
        plan.carried[spec.name] = std::move(carried);
      } else if (ok) {
        plan.rerun_note[spec.name] = "its definition changed since the --resume file";
      }
    }
    position[spec.name] = plan.jobs.size();
    plan.jobs.push_back(std::move(job));
    plan.pulled.push_back(selection.pulled[index]);
  }
  return plan;
}

void print_plan(const JobFile& file, const Plan& plan, const std::string& where,
                const fs::path& exe, const fs::path& results_dir) {
  fmt::print("pyhost batch: plan for {}: {} job{}, {}\n", file.display_path, plan.jobs.size(),
             plan.jobs.size() == 1 ? "" : "s", where);
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const JobSpec& job = *plan.jobs[i].spec;
    std::string notes;
    if (plan.jobs[i].already_ok) notes += "  (ok in the --resume file: will not run)";
    if (plan.pulled[i]) notes += "  (needed by a selected job)";
    if (auto it = plan.rerun_note.find(job.name); it != plan.rerun_note.end())
      notes += "  (runs again: " + it->second + ")";
    fmt::print("{:>3}. {}{}\n", i + 1, job.name, notes);
    AttemptCommand command = make_attempt_command(job, 1, exe, results_dir);
    fmt::print("       command: {}\n", display_command(command.launch.exe, command.launch.args));
    fmt::print("       cwd: {}\n", job.cwd.string());
    for (const auto& [k, v] : job.env) fmt::print("       env: {}={}\n", k, v);
    std::string more;
    if (!job.needs.empty()) more += fmt::format("needs: {}; ", fmt::join(job.needs, ", "));
    if (!job.tags.empty()) more += fmt::format("tags: {}; ", fmt::join(job.tags, ", "));
    more +=
        fmt::format("retries: {}; timeout: {}", job.retries,
                    job.timeout_s ? fmt::format("{:g} s", *job.timeout_s) : std::string("none"));
    if (job.ranks > 1) more += fmt::format("; ranks: {}", job.ranks);
    if (!job.host.empty()) more += fmt::format("; host: {}", job.host);
    fmt::print("       {}\n", more);
  }
}

// Attempt files of the jobs about to run, left by an earlier batch, would be mistaken for
// this one's.
void remove_stale_attempt_files(const fs::path& dir, const std::set<std::string>& jobs) {
  static const std::regex kAttemptFile(R"(^(.*)\.attempt\d+(\.member\d+)?\.(stdout|stderr|json)$)");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, kAttemptFile) && jobs.count(m[1].str()))
      fs::remove(entry.path(), ec);
  }
}

// Forwards scheduler events to the reporter and rewrites the results file after every job.
class BatchObserver : public SchedulerObserver {
 public:
  BatchObserver(Reporter& reporter, ResultsFile& results, Clock::time_point start)
      : reporter_(reporter), results_(results), start_(start) {}

  void attempt_started(const JobSpec& job, int attempt, int max_attempts) override {
    reporter_.attempt_started(job, attempt, max_attempts);
  }
  void attempt_finished(const JobSpec& job, const AttemptResult& a,
                        std::optional<double> retry_in_s) override {
    reporter_.attempt_finished(job, a, retry_in_s);
  }
  void job_finished(const JobResult& job) override {
    results_.set_job(job.name, to_json(job));
    write(false, "");
    if (job.status != Status::Ok) any_not_ok_ = true;
    reporter_.job_finished(job);
  }
  void tick(const Progress& p) override { reporter_.tick(p); }

  void write(bool complete, std::string_view interrupted_by) {
    double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    try {
      results_.write(wall, complete, interrupted_by);
    } catch (const std::exception& e) {
      // Keep running the jobs: their outputs are still in the results directory.
      if (!write_failed_)
        fmt::print(stderr, "pyhost batch: error: cannot write {}: {}\n", results_.path().string(),
                   e.what());
      write_failed_ = true;
    }
  }
  bool any_not_ok() const { return any_not_ok_; }
  bool write_failed() const { return write_failed_; }

 private:
  Reporter& reporter_;
  ResultsFile& results_;
  Clock::time_point start_;
  bool any_not_ok_ = false;
  bool write_failed_ = false;
};

void print_summary(const nlohmann::ordered_json& doc, const fs::path& json_path) {
  const auto& s = doc["summary"];
  std::string counts;
  for (const char* status : {"ok", "failed", "crashed", "timeout", "skipped", "pending"})
    if (s.value(status, 0) > 0 || std::string_view(status) == "ok")
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", s.value(status, 0), status);
  fmt::print("pyhost batch: {} job{} in {}: {}\n", s.value("total", 0),
             s.value("total", 0) == 1 ? "" : "s", human_duration(doc.value("wall_s", 0.0)), counts);
  for (const auto& job : doc["jobs"]) {
    auto field = [&](const char* key) {
      auto it = job.find(key);
      return it != job.end() ? *it : nlohmann::ordered_json();
    };
    std::string reason = field("reason").is_string() ? field("reason").get<std::string>() : "";
    if (field("resumed") == true) reason = "from the --resume file";
    double wall = field("wall_s").is_number() ? field("wall_s").get<double>() : 0.0;
    std::string line = fmt::format(
        "  {:<8} {:<24} {:>8}  {}", job.value("status", "?"), job.value("name", "?"),
        field("attempts").is_number() && field("attempts") > 0 ? human_duration(wall) : "-",
        reason);
    line.erase(line.find_last_not_of(' ') + 1);
    fmt::print("{}\n", line);
  }
  fmt::print("results: {}\n", json_path.string());
  std::fflush(stdout);
}

}  // namespace

int run_batch(const BatchOptions& options, BatchEngine* engine) {
  const Clock::time_point start = Clock::now();
  JobFile file;
  Selection selection;
  std::map<std::string, nlohmann::ordered_json> previous;
  try {
    file = load_job_file(options.job_file);
    check_placement(file, engine ? &engine->rank_hosts() : nullptr);
    selection = select_jobs(file, options.only);
    if (!options.resume.empty()) previous = load_results_jobs(options.resume);
  } catch (const JobFileError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pyhost batch: error: {}\n", e.what());
    return kExitUsage;
  }
  if (options.jobs < 0) {
    fmt::print(stderr, "pyhost batch: error: --jobs must be at least 1\n");
    return kExitUsage;
  }
  const int max_jobs =
      options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  const fs::path results_dir =
      fs::absolute(!options.results_dir.empty()
                       ? options.results_dir
                       : file.dir / ".pyhost-results" / fs::path(options.job_file).stem());
  const fs::path json_path =
      fs::absolute(!options.json.empty() ? options.json : results_dir / "results.json");
  const fs::path exe = self_exe();
  Plan plan = make_plan(file, selection, previous, !options.resume.empty());

  const size_t ranks = engine ? engine->rank_hosts().size() : 0;
  const std::string where =
      !engine ? fmt::format("at most {} at a time", max_jobs)
              : fmt::format(
                    "on {} rank{}, at most {} at a time on each", ranks, ranks == 1 ? "" : "s",
                    options.jobs > 0 ? std::to_string(options.jobs) : "as many as it has cores");
  if (options.dry_run) {
    print_plan(file, plan, where, exe, results_dir);
    return kExitOk;
  }

  std::error_code ec;
  fs::create_directories(results_dir, ec);
  if (ec) {
    fmt::print(stderr, "pyhost batch: error: cannot create {}: {}\n", results_dir.string(),
               ec.message());
    return kExitUsage;
  }
  std::set<std::string> to_run;
  std::vector<std::string> planned;
  for (const auto& job : plan.jobs) {
    planned.push_back(job.spec->name);
    if (!job.already_ok) to_run.insert(job.spec->name);
  }
  remove_stale_attempt_files(results_dir, to_run);

  nlohmann::ordered_json meta = {
      {"pyhost_version", PYHOST_VERSION},
      {"job_file", fs::absolute(options.job_file).lexically_normal().string()},
      {"results_dir", results_dir.string()},
      {"started_at", utc_now_iso()},
      {"max_jobs", max_jobs},
      {"only", options.only},
      {"fail_fast", options.fail_fast},
      {"resumed_from", options.resume.empty()
                           ? nlohmann::ordered_json(nullptr)
                           : nlohmann::ordered_json(fs::absolute(options.resume).string())},
  };
  if (engine) {
    meta["engine"] = "mpi";
    meta["ranks"] = ranks;
    meta["hosts"] = engine->rank_hosts();
    meta["max_jobs"] = options.jobs > 0 ? nlohmann::ordered_json(options.jobs)
                                        : nlohmann::ordered_json(nullptr);  // each rank's cores
  }
  ResultsFile results(json_path, planned, std::move(meta));
  for (auto& [name, job] : plan.carried) results.set_job(name, job);

  const bool live = ::isatty(STDERR_FILENO) == 1;
  std::unique_ptr<Reporter> reporter = Reporter::create(stderr, live);
  BatchObserver observer(*reporter, results, start);
  observer.write(false, "");
  if (observer.write_failed()) return kExitUsage;  // nothing ran: say so rather than lose results
  for (const auto& [name, note] : plan.rerun_note)
    fmt::print(stderr, "[batch] note    {} runs again: {}\n", name, note);
  if (!plan.carried.empty())
    fmt::print(stderr, "[batch] resume  {} job{} already ok in {}\n", plan.carried.size(),
               plan.carried.size() == 1 ? "" : "s", options.resume.string());

  int stop_signal = 0;
  try {
    SignalWatcher signals;
    SchedulerConfig config;
    config.max_jobs = max_jobs;
    config.fail_fast = options.fail_fast;
    std::unique_ptr<AttemptRunner> runner =
        engine ? engine->make_runner(options.jobs) : std::make_unique<LocalRunner>(max_jobs);
    Scheduler scheduler(
        std::move(plan.jobs), config,
        [&](const JobSpec& job, int attempt) {
          return make_attempt_command(job, attempt, exe, results_dir);
        },
        observer, start, *runner);
    stop_signal = scheduler.run(signals);
  } catch (const std::exception& e) {
    // Running jobs were stopped by ~Scheduler; what had finished is in the results file.
    reporter->finish();
    fmt::print(stderr, "pyhost batch: internal error: {}\n", e.what());
    return kExitFailure;
  }
  reporter->finish();

  const std::string interrupted = stop_signal ? signal_name(stop_signal) : "";
  observer.write(stop_signal == 0, interrupted);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::ordered_json doc = results.document(wall, stop_signal == 0, interrupted);
  int status = kExitOk;
  if (!options.junit.empty()) {
    try {
      write_file_atomically(options.junit,
                            render_junit(doc, fs::path(options.job_file).stem().string()));
    } catch (const std::exception& e) {
      fmt::print(stderr, "pyhost batch: error: cannot write {}: {}\n", options.junit.string(),
                 e.what());
      status = kExitFailure;
    }
  }
  print_summary(doc, json_path);
  if (stop_signal) return 128 + stop_signal;
  if (observer.any_not_ok() || observer.write_failed()) status = kExitFailure;
  return status;
}

}  // namespace pyhost::batch
