// Runs planned jobs through an AttemptRunner (child processes here, or the ranks of an MPI job),
// each as soon as its needs are ok and the runner has room; retries with back-off, timeouts
// (SIGTERM, then SIGKILL to the job's process group), skips dependents of failed jobs,
// --fail-fast, and stops cleanly on SIGINT/SIGTERM.
#pragma once

#include "batch/attempt_runner.hpp"
#include "batch/child_process.hpp"
#include "batch/job_command.hpp"
#include "batch/job_file.hpp"
#include "batch/job_result.hpp"
#include "batch/signal_watcher.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace pyhost::batch {

using Clock = std::chrono::steady_clock;

struct PlannedJob {
  const JobSpec* spec = nullptr;
  std::vector<size_t> needs;  // indices into the plan; a plan lists needs before dependents
  bool already_ok = false;    // ok in the --resume file: counts as ok, never runs
};

struct SchedulerConfig {
  int max_jobs = 1;  // for the LocalRunner that the constructor without a runner makes
  bool fail_fast = false;
  std::chrono::milliseconds kill_grace{2000};   // SIGTERM -> SIGKILL
  std::chrono::milliseconds backoff_base{200};  // retry k waits base * 2^(k-1), at most cap
  std::chrono::milliseconds backoff_cap{5000};
  std::chrono::milliseconds tick{250};  // progress refresh
  size_t output_tail_bytes = 64 * 1024;
};

struct Progress {
  size_t total = 0, done = 0, running = 0, not_ok = 0;
  double elapsed_s = 0;
};

class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  virtual void attempt_started(const JobSpec&, int /*attempt*/, int /*max_attempts*/) {}
  // `retry_in_s`: set when another attempt follows after that delay.
  virtual void attempt_finished(const JobSpec&, const AttemptResult&,
                                std::optional<double> /*retry_in_s*/) {}
  // Every job of the plan except already_ok ones ends here exactly once, skipped ones included.
  virtual void job_finished(const JobResult&) {}
  virtual void tick(const Progress&) {}
};

using CommandFn = std::function<AttemptCommand(const JobSpec&, int attempt)>;

class Scheduler {
 public:
  // Attempts run as child processes of this process, at most config.max_jobs at once.
  Scheduler(std::vector<PlannedJob> plan, SchedulerConfig config, CommandFn command,
            SchedulerObserver& observer, Clock::time_point batch_start);
  // Attempts run where `runner` puts them.
  Scheduler(std::vector<PlannedJob> plan, SchedulerConfig config, CommandFn command,
            SchedulerObserver& observer, Clock::time_point batch_start, AttemptRunner& runner);
  ~Scheduler();

  // Runs until every job is final. Returns the SIGINT/SIGTERM that stopped the batch, or 0.
  int run(SignalWatcher& signals);

 private:
  Scheduler(std::vector<PlannedJob> plan, SchedulerConfig config, CommandFn command,
            SchedulerObserver& observer, Clock::time_point batch_start,
            std::unique_ptr<AttemptRunner> owned, AttemptRunner* runner);

  enum class Phase { Waiting, Running, Backoff, Done };
  struct Slot;

  void start_ready();
  void launch(size_t index);
  void reap();
  void finish_attempt(size_t index, const AttemptEnd& end);
  void finish_job(size_t index, Status status, std::string reason);
  void skip_blocked();
  void enforce_deadlines();
  void stop(int sig);
  void stop_pending(const std::string& reason);
  Clock::time_point next_wakeup() const;
  Progress progress() const;
  double since_start(Clock::time_point t) const;
  bool all_done() const;

  std::vector<PlannedJob> plan_;
  SchedulerConfig config_;
  CommandFn command_;
  SchedulerObserver& observer_;
  Clock::time_point start_;
  std::unique_ptr<AttemptRunner> own_runner_;  // the default LocalRunner
  AttemptRunner& runner_;
  std::vector<Slot> slots_;
  size_t running_ = 0;
  bool no_new_attempts_ = false;
  bool changed_ = false;  // a job became final since the loop last slept
  int stop_signal_ = 0;
};

}  // namespace pyhost::batch
