// Where the scheduler's attempts run: the seam between the job graph (scheduler.cpp: needs,
// retries, timeouts, results) and the processes. LocalRunner starts child processes here; the
// rank runner (rank_runner.hpp) hands them to the ranks of an MPI job. The scheduler never knows
// which.
#pragma once

#include "batch/child_process.hpp"
#include "batch/job_command.hpp"
#include "batch/job_file.hpp"
#include "batch/signal_watcher.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pyhost::batch {

using AttemptKey = std::uint64_t;

// How an attempt ended, as far as the runner knows (the scheduler classifies it).
struct AttemptEnd {
  AttemptKey key = 0;
  ExitStatus exit;
  // Set when the attempt did not run or ended unseen: it cannot start (`lost` false: failed), or
  // a rank running it was lost (`lost` true: crashed).
  std::string error;
  bool lost = false;
  std::vector<int> ranks;          // where it ran (empty: this process, no ranks)
  std::vector<std::string> hosts;  // the ranks' hosts
};

class AttemptRunner {
 public:
  virtual ~AttemptRunner() = default;

  // Why `job` can never start here (a rank count or host no rank left can give), or nullopt.
  virtual std::optional<std::string> impossible(const JobSpec& /*job*/) const {
    return std::nullopt;
  }
  // Whether an attempt of `job` can start now.
  virtual bool has_room(const JobSpec& job) const = 0;
  // Starts an attempt (has_room() said yes). One that cannot be launched ends at once: its
  // error comes with the next take_ended().
  virtual void start(AttemptKey key, const JobSpec& job, const AttemptCommand& command) = 0;
  // Attempts that ended since the last call, their output files written.
  virtual std::vector<AttemptEnd> take_ended() = 0;
  // Signals every process group of a running attempt; after a signal, whatever the attempt
  // leaves behind is killed once it ends.
  virtual void signal(AttemptKey key, int sig) = 0;
  // Sleeps until something may have changed, at most `timeout`.
  virtual void wait(SignalWatcher& signals, std::chrono::milliseconds timeout) = 0;
};

// Child processes of this process, at most `max_jobs` at once.
class LocalRunner final : public AttemptRunner {
 public:
  explicit LocalRunner(int max_jobs) : max_jobs_(max_jobs < 1 ? 1 : max_jobs) {}

  bool has_room(const JobSpec&) const override {
    return running_.size() < static_cast<size_t>(max_jobs_);
  }
  void start(AttemptKey key, const JobSpec&, const AttemptCommand& command) override {
    launch(key, command.launch);
  }
  // Starts regardless of max_jobs (for a caller that does its own counting).
  void launch(AttemptKey key, const LaunchSpec& launch);
  std::vector<AttemptEnd> take_ended() override;
  void signal(AttemptKey key, int sig) override;
  void wait(SignalWatcher& signals, std::chrono::milliseconds timeout) override;

  size_t running() const { return running_.size(); }

 private:
  struct Running {
    AttemptKey key;
    ChildProcess child;
    bool signalled = false;
  };
  int max_jobs_;
  std::vector<Running> running_;
  std::vector<AttemptEnd> ended_;  // launch failures, reported with the next take_ended()
};

}  // namespace pyhost::batch
