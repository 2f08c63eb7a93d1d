#include "batch/scheduler.hpp"

#include "batch/attempt_outcome.hpp"
#include "util/files.hpp"
#include "util/process_info.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>
#include <utility>

namespace pyhost::batch {

namespace fs = std::filesystem;

struct Scheduler::Slot {
  Phase phase = Phase::Waiting;
  int attempt = 0;  // attempts started so far
  AttemptCommand command;
  Clock::time_point started{}, deadline = Clock::time_point::max(),
                               kill_at = Clock::time_point::max(), retry_at{};
  bool timed_out = false;
  JobResult result;
};

Scheduler::Scheduler(std::vector<PlannedJob> plan, SchedulerConfig config, CommandFn command,
                     SchedulerObserver& observer, Clock::time_point batch_start)
    : Scheduler(std::move(plan), config, std::move(command), observer, batch_start,
                std::make_unique<LocalRunner>(config.max_jobs), nullptr) {}

Scheduler::Scheduler(std::vector<PlannedJob> plan, SchedulerConfig config, CommandFn command,
                     SchedulerObserver& observer, Clock::time_point batch_start,
                     AttemptRunner& runner)
    : Scheduler(std::move(plan), config, std::move(command), observer, batch_start, nullptr,
                &runner) {}

Scheduler::Scheduler(std::vector<PlannedJob> plan, SchedulerConfig config, CommandFn command,
                     SchedulerObserver& observer, Clock::time_point batch_start,
                     std::unique_ptr<AttemptRunner> owned, AttemptRunner* runner)
    : plan_(std::move(plan)),
      config_(config),
      command_(std::move(command)),
      observer_(observer),
      start_(batch_start),
      own_runner_(std::move(owned)),
      runner_(runner ? *runner : *own_runner_),
      slots_(plan_.size()) {
  config_.max_jobs = std::max(1, config_.max_jobs);
  for (size_t i = 0; i < plan_.size(); ++i) {
    const JobSpec& spec = *plan_[i].spec;
    JobResult& r = slots_[i].result;
    r.name = spec.name;
    r.tags = spec.tags;
    r.needs = spec.needs;
    r.fingerprint = fingerprint(spec);
    if (plan_[i].already_ok) {
      slots_[i].phase = Phase::Done;
      r.status = Status::Ok;
    }
  }
}

// Children still running (only on an exception) are killed and reaped by the runner's end.
Scheduler::~Scheduler() = default;

double Scheduler::since_start(Clock::time_point t) const {
  return std::chrono::duration<double>(t - start_).count();
}

bool Scheduler::all_done() const {
  return std::all_of(slots_.begin(), slots_.end(),
                     [](const Slot& s) { return s.phase == Phase::Done; });
}

int Scheduler::run(SignalWatcher& signals) {
  for (;;) {
    if (int sig = signals.take_stop_signal()) stop(sig);
    reap();
    enforce_deadlines();
    skip_blocked();
    start_ready();
    observer_.tick(progress());
    if (all_done()) break;
    if (std::exchange(changed_, false)) continue;  // a job ended: its dependents may be ready
    auto wake = std::min(next_wakeup(), Clock::now() + config_.tick);
    runner_.wait(signals, std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()));
  }
  return stop_signal_;
}

void Scheduler::start_ready() {
  const Clock::time_point now = Clock::now();
  // Plan order is a topological order: earlier jobs first, retries as soon as due. A job the
  // runner has no room for now (its host busy) does not hold up the others.
  std::set<std::pair<int, std::string>> no_room;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (no_new_attempts_) break;
    bool due = s.phase == Phase::Backoff && now >= s.retry_at;
    if (s.phase == Phase::Waiting)
      due = std::all_of(plan_[i].needs.begin(), plan_[i].needs.end(), [&](size_t n) {
        return slots_[n].phase == Phase::Done && slots_[n].result.status == Status::Ok;
      });
    if (!due) continue;
    const JobSpec& spec = *plan_[i].spec;
    if (auto why = runner_.impossible(spec)) {
      // A retry keeps its attempts; a job that never started has none.
      finish_job(i, s.attempt > 0 ? s.result.attempts.back().status : Status::Failed,
                 s.attempt > 0
                     ? fmt::format("{}; no retry: {}", s.result.attempts.back().reason, *why)
                     : "not started: " + *why);
    } else if (!no_room.count({spec.ranks, spec.host})) {
      if (runner_.has_room(spec))
        launch(i);
      else
        no_room.insert({spec.ranks, spec.host});  // alike jobs need not ask again this round
    }
  }
}

void Scheduler::launch(size_t index) {
  Slot& s = slots_[index];
  const JobSpec& spec = *plan_[index].spec;
  ++s.attempt;
  s.command = command_(spec, s.attempt);
  s.result.command = {s.command.launch.exe.string()};
  s.result.command.insert(s.result.command.end(), s.command.launch.args.begin(),
                          s.command.launch.args.end());
  std::error_code ec;
  fs::remove(s.command.run_json, ec);  // never read a stale one
  s.timed_out = false;
  s.kill_at = Clock::time_point::max();
  s.started = Clock::now();
  s.deadline = spec.timeout_s ? s.started + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(*spec.timeout_s))
                              : Clock::time_point::max();
  observer_.attempt_started(spec, s.attempt, spec.retries + 1);
  s.phase = Phase::Running;
  ++running_;
  runner_.start(index, spec, s.command);
}

void Scheduler::reap() {
  for (const AttemptEnd& end : runner_.take_ended()) {
    const size_t i = static_cast<size_t>(end.key);
    if (i >= slots_.size() || slots_[i].phase != Phase::Running) continue;
    --running_;
    finish_attempt(i, end);
  }
}

void Scheduler::finish_attempt(size_t index, const AttemptEnd& end) {
  const ExitStatus& exit = end.exit;
  Slot& s = slots_[index];
  const JobSpec& spec = *plan_[index].spec;
  const Clock::time_point now = Clock::now();
  AttemptResult a;
  a.attempt = s.attempt;
  a.start_s = since_start(s.started);
  a.end_s = since_start(now);
  a.wall_s = a.end_s - a.start_s;
  a.cpu_s = exit.cpu_s;
  a.exit_code = exit.exit_code;
  if (exit.signal) a.signal = signal_name(exit.signal);
  a.ranks = end.ranks;
  a.hosts = end.hosts;
  a.stdout_path = s.command.launch.stdout_path.string();
  a.stderr_path = s.command.launch.stderr_path.string();
  a.out = read_tail(s.command.launch.stdout_path, config_.output_tail_bytes);
  a.err = read_tail(s.command.launch.stderr_path, config_.output_tail_bytes);
  std::error_code ec;
  if (fs::exists(s.command.run_json, ec)) {
    a.run_json_path = s.command.run_json.string();
    try {
      a.run = strip_run_outputs(nlohmann::ordered_json::parse(read_file(s.command.run_json)));
    } catch (const std::exception& e) {
      spdlog::debug("batch: ignoring unreadable {}: {}", a.run_json_path, e.what());
    }
  }
  if (!end.error.empty()) {
    a.status = end.lost ? Status::Crashed : Status::Failed;
    a.reason = end.error;
  } else {
    Outcome o = classify_attempt(exit, s.timed_out, spec.timeout_s, a.run);
    a.status = o.status;
    a.reason = std::move(o.reason);
  }
  if (s.result.interrupted && a.status != Status::Ok)
    a.reason = fmt::format("interrupted by {}: {}", signal_name(stop_signal_), a.reason);
  s.result.attempts.push_back(a);

  const bool retry = a.status != Status::Ok && s.attempt <= spec.retries && !no_new_attempts_;
  std::optional<double> retry_in;
  if (retry) {
    auto delay = config_.backoff_base * (1LL << std::min(s.attempt - 1, 20));
    delay = std::min<std::chrono::milliseconds>(delay, config_.backoff_cap);
    s.retry_at = now + delay;
    s.phase = Phase::Backoff;
    retry_in = std::chrono::duration<double>(delay).count();
  }
  observer_.attempt_finished(spec, a, retry_in);
  if (!retry) finish_job(index, a.status, a.reason);
}

void Scheduler::finish_job(size_t index, Status status, std::string reason) {
  Slot& s = slots_[index];
  s.phase = Phase::Done;
  changed_ = true;
  s.result.status = status;
  s.result.reason = std::move(reason);
  observer_.job_finished(s.result);
  if (status != Status::Ok && config_.fail_fast && !no_new_attempts_) {
    no_new_attempts_ = true;
    stop_pending(fmt::format("not started: --fail-fast after job '{}' {}", s.result.name,
                             to_string(status)));
  }
}

// Jobs whose needs did not all succeed never start. Plan order is topological, so one pass
// carries a skip down the whole chain.
void Scheduler::skip_blocked() {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].phase != Phase::Waiting) continue;
    for (size_t n : plan_[i].needs) {
      const Slot& need = slots_[n];
      if (need.phase == Phase::Done && need.result.status != Status::Ok) {
        finish_job(i, Status::Skipped,
                   fmt::format("needs '{}', which {}", need.result.name,
                               need.result.status == Status::Skipped
                                   ? "was skipped"
                                   : fmt::format("ended {}", to_string(need.result.status))));
        break;
      }
    }
  }
}

void Scheduler::enforce_deadlines() {
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.phase != Phase::Running) continue;
    if (!s.timed_out && now >= s.deadline) {
      s.timed_out = true;
      runner_.signal(i, SIGTERM);
      s.kill_at = now + config_.kill_grace;
    }
    if (now >= s.kill_at) {
      runner_.signal(i, SIGKILL);
      s.kill_at = Clock::time_point::max();  // once is enough; reap() follows
    }
  }
}

// Ctrl-C / SIGTERM of pyhost: nothing new starts, running jobs get the same signal (they are in
// their own process groups, so the terminal's Ctrl-C did not reach them), then SIGKILL after
// the grace period; a second signal kills at once.
void Scheduler::stop(int sig) {
  const bool again = stop_signal_ != 0;
  stop_signal_ = sig;
  no_new_attempts_ = true;
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.phase != Phase::Running) continue;
    s.result.interrupted = true;
    runner_.signal(i, again ? SIGKILL : sig);
    s.kill_at = again ? Clock::time_point::max() : std::min(s.kill_at, now + config_.kill_grace);
  }
  if (!again) stop_pending(fmt::format("not started: pyhost batch got {}", signal_name(sig)));
}

// Ends every job that is not running: waiting ones are skipped, ones waiting for a retry keep
// their last attempt's result.
void Scheduler::stop_pending(const std::string& reason) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.phase == Phase::Waiting) {
      s.result.interrupted = stop_signal_ != 0;
      finish_job(i, Status::Skipped, reason);
    } else if (s.phase == Phase::Backoff) {
      s.result.interrupted = stop_signal_ != 0;
      const AttemptResult& last = s.result.attempts.back();
      finish_job(i, last.status, last.reason);
    }
  }
}

Clock::time_point Scheduler::next_wakeup() const {
  Clock::time_point wake = Clock::time_point::max();
  for (const Slot& s : slots_) {
    if (s.phase == Phase::Running)
      wake = std::min({wake, s.timed_out ? wake : s.deadline, s.kill_at});
    if (s.phase == Phase::Backoff) wake = std::min(wake, s.retry_at);
  }
  return wake;
}

Progress Scheduler::progress() const {
  Progress p;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (plan_[i].already_ok) continue;
    const Slot& s = slots_[i];
    ++p.total;
    if (s.phase == Phase::Done) {
      ++p.done;
      if (s.result.status != Status::Ok) ++p.not_ok;
    }
    if (s.phase == Phase::Running) ++p.running;
  }
  p.elapsed_s = since_start(Clock::now());
  return p;
}

}  // namespace pyhost::batch
