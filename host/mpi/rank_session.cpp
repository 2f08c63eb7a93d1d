#include "mpi/rank_session.hpp"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "mpi/dispatcher.hpp"
#include "mpi/executor_mailbox.hpp"
#include "mpi/mpi_transport.hpp"
#include "mpi/output_forwarder.hpp"
#include "output/output_mux.hpp"
#include "report/journal.hpp"
#include "schedule/task_feed.hpp"
#include "util/files.hpp"

namespace pyhost::mpi {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Message tags; each message is one JSON document.
enum Tag : int {
  kHello = 1,  // rank -> 0: {version, fingerprint, host}
  kVerdict,    // 0 -> rank: {ok, why}
  kWant,       // rank -> 0: {n}: n more tasks, please
  kTasks,      // 0 -> rank: {asked, ids}: no ids: nothing more for this rank
  kResult,     // rank -> 0: a task of --json (with its output)
  kDone,       // rank -> 0: {unrun}: its local run ended; the tasks it took and never started
  kFinish,     // 0 -> rank: every rank is done, finalise
  kOutput,     // rank -> 0: '1' or '2' (stdout, stderr), then whole lines of task output (raw)
  kAlive,      // either way, after a second without other messages: still here
};

// MPI says nothing when a peer dies. Launchers do (mpirun ends the job at once, naming the
// rank); where one does not (srun without --kill-on-bad-exit), a rank that rank 0 has not heard
// from for this long is taken as lost, and so is rank 0 by the others: the job is aborted.
constexpr auto kAliveEvery = std::chrono::seconds(1);
std::chrono::seconds peer_timeout() {
  const char* text = std::getenv("PYHOST_MPI_PEER_TIMEOUT");
  const int seconds = text ? std::atoi(text) : 0;
  return std::chrono::seconds(seconds > 0 ? seconds : 10);
}

// Tasks each rank holds beyond its idle workers: one, or, when tasks are shorter than the time a
// taken task takes to be replaced (the communication thread's wake-up, and on the other ranks the
// round trip to rank 0), as many as the workers take meanwhile, at most kMaxPrefetch: the next
// task is then there when a worker asks. Long tasks keep one, so the end of a run stays balanced.
constexpr int kMaxPrefetch = 32;

// MPI cannot wake a sleeping thread when a message arrives, so the communication thread polls.
// Right after activity more is likely soon (a rank's next request comes one task later; a
// request this rank sent is answered within a round trip): it polls every kQuickPoll while
// waiting for an answer or for kQuickFor after anything happened, then backs off to kSlowPoll
// to leave the CPUs to the workers.
constexpr auto kQuickPoll = std::chrono::microseconds(50);
constexpr auto kQuickFor = std::chrono::milliseconds(2);
constexpr auto kSlowPoll = std::chrono::microseconds(1000);

std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// What must be equal on every rank: the pyhost, the plan and the script it runs.
std::string fingerprint(const RunPlan& plan) {
  RunPlan same = plan;
  same.workers = 0;  // each node's default (its cores) may differ
  std::string text;
  for (const auto& word : same.to_argv()) text += word + '\0';
  if (plan.target.kind == TaskTarget::Kind::Script) {
    try {
      text += read_file(plan.target.value);
    } catch (const std::exception&) {
    }
  }
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", hash);
}

// The task ids and results of this rank, shared by its workers (through the TaskBoard) and its
// communication thread.
class RankFeed final : public TaskFeed {
 public:
  explicit RankFeed(std::function<void()> wake_comm) : wake_comm_(std::move(wake_comm)) {}

  int next() override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    if (queue_.empty()) wake_comm_();  // else the prefetched task is here: no wait
    ready_.wait(lock, [this] { return !queue_.empty() || no_more_ || cancelled_; });
    --waiting_;
    if (cancelled_ || queue_.empty()) return -1;
    const int task = queue_.front();
    queue_.pop_front();
    const auto now = Clock::now();
    if (last_take_) take_interval_.add(now - *last_take_);
    last_take_ = now;
    if (!taken_at_) taken_at_ = now;
    wake_comm_();  // one prefetched task fewer: ask for the next
    return task;
  }
  bool exhausted() const override {
    std::lock_guard lock(mutex_);
    return cancelled_ || (no_more_ && queue_.empty());
  }
  // Tasks asked of rank 0 and not yet answered.
  bool awaiting() const {
    std::lock_guard lock(mutex_);
    return asked_ > 0;
  }
  void finished(const TaskResult& result) override {
    // No wake: the worker asks for its next task at once, and that wakes the communication
    // thread, which then sends this result too (one thread switch per task, not two).
    std::lock_guard lock(mutex_);
    outbox_.push_back(result);
  }
  void cancel() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    ready_.notify_all();
  }
  bool settles_unrun() const override { return true; }  // rank 0's collector reports them

  // The communication thread's side.
  struct Work {
    std::vector<TaskResult> results;
    int want = 0;
    std::optional<std::vector<int>> done;  // the local run ended: the tasks it never started
  };
  Work take_work() {
    std::lock_guard lock(mutex_);
    Work work;
    work.results.swap(outbox_);
    if (!no_more_ && !cancelled_ && !local_done_) {
      work.want = waiting_ + prefetch() - static_cast<int>(queue_.size()) - asked_;
      if (work.want > 0)
        asked_ += work.want;
      else
        work.want = 0;
    }
    if (local_done_ && !done_reported_) {
      done_reported_ = true;
      work.done.emplace(queue_.begin(), queue_.end());
      queue_.clear();
    }
    return work;
  }
  void give(int asked, const std::vector<int>& tasks) {
    {
      std::lock_guard lock(mutex_);
      if (taken_at_ && !tasks.empty()) refill_.add(Clock::now() - *taken_at_);
      taken_at_.reset();
      asked_ -= asked;
      if (tasks.empty()) no_more_ = true;
      queue_.insert(queue_.end(), tasks.begin(), tasks.end());
    }
    ready_.notify_all();
  }
  void local_run_ended() {
    {
      std::lock_guard lock(mutex_);
      local_done_ = true;
    }
    wake_comm_();
  }

 private:
  // A moving average of durations (weight 1/8 for the newest).
  struct Average {
    double seconds = 0;
    void add(Clock::duration sample) {
      const double x = std::chrono::duration<double>(sample).count();
      seconds = seconds == 0 ? x : seconds + (x - seconds) / 8;
    }
  };
  int prefetch() const {
    if (refill_.seconds == 0 || take_interval_.seconds == 0) return 1;
    const double taken_meanwhile = refill_.seconds / take_interval_.seconds;
    return 1 + static_cast<int>(std::min<double>(taken_meanwhile, kMaxPrefetch - 1));
  }

  std::function<void()> wake_comm_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<int> queue_;
  std::vector<TaskResult> outbox_;
  int waiting_ = 0, asked_ = 0;
  std::optional<Clock::time_point> last_take_, taken_at_;  // taken_at_: the oldest unreplaced
  Average take_interval_, refill_;  // between tasks taken by any worker; a take to its refill
  bool no_more_ = false, cancelled_ = false, local_done_ = false, done_reported_ = false;
};

// Rank 0's record of the run: results (a tally, and the records the plan keeps), journal, the
// one output stream.
class Collector {
 public:
  Collector(const RunPlan& plan, std::map<int, TaskResult> resumed)
      : plan_(plan), done_(static_cast<std::size_t>(plan.tasks), false) {
    if (!plan.journal_path.empty()) journal_.emplace(plan.journal_path);
    for (auto& [id, task] : resumed) keep(std::move(task));
  }
  void record(TaskResult result) {
    if (journal_) journal_->append(result);
    if (!plan_.record_output) result.stdout_text.clear(), result.stderr_text.clear();
    keep(std::move(result));
  }
  // Into `run`: the records kept in task order and the tally, tasks no rank ran as failed `why`.
  void finish(RunResult& run, const std::string& why) {
    for (std::size_t task = 0; task < done_.size(); ++task) {
      if (done_[task]) continue;
      TaskResult never;
      never.id = static_cast<int>(task);
      never.error = why;
      keep(std::move(never));
    }
    run.tasks.reserve(kept_.size());
    for (auto& [id, task] : kept_) run.tasks.push_back(std::move(task));
    kept_.clear();
    run.tally = tally_;
  }

  // Task output lines that another rank forwarded (its mux tagged them already).
  void print(int fd, std::string_view lines) {
    if (plan_.echo_output) write_fully(fd, lines);
  }

 private:
  // Each task is counted once: a result for a task already settled changes nothing.
  void keep(TaskResult result) {
    const auto index = static_cast<std::size_t>(result.id);
    if (result.id < 0 || index >= done_.size() || done_[index]) return;
    done_[index] = true;
    tally_.add(result);
    if (plan_.keep_records == KeepRecords::All || result.status != TaskStatus::Ok)
      kept_[result.id] = std::move(result);
  }

  const RunPlan& plan_;
  std::vector<bool> done_;  // one bit a task, whether kept or not
  std::map<int, TaskResult> kept_;
  TaskTally tally_;
  std::optional<JournalWriter> journal_;
};

class RankSession {
 public:
  // `serve_executor`: rank 0 runs the script once and the other ranks serve its
  // pyhost.Executor(mode="mpi") calls (runtime/pyhost/_executor/mpi.py) until it ends.
  RankSession(const RunPlan& plan, MpiTransport& mpi, bool serve_executor)
      : plan_(plan), mpi_(mpi), serve_executor_(serve_executor), feed_([this] { wake(); }) {}

  // Rank 0 checks every rank's pyhost and plan; a rank that differs is refused. A message out
  // of shape (not pyhost's, or a corrupted one) aborts the job: the other ranks would wait.
  void handshake() {
    try {
      exchange_hellos();
    } catch (const PlanError&) {
      throw;
    } catch (const std::exception& failure) {
      abort_job(failure.what());
    }
  }

 private:
  void exchange_hellos() {
    const json mine = {
        {"version", PYHOST_VERSION}, {"fingerprint", fingerprint(plan_)}, {"host", mpi_.host()}};
    if (mpi_.rank() != 0) {
      mpi_.send(0, kHello, dump(mine));
      const json verdict = parse_message(mpi_.wait_for(kVerdict));
      if (!verdict.at("ok").get<bool>()) {
        mpi_.finalize();
        throw PlanError(fmt::format("rank {} refused by rank 0: {}", mpi_.rank(),
                                    verdict.at("why").get<std::string>()));
      }
      return;
    }
    std::string problems;
    for (int seen = 1; seen < mpi_.size(); ++seen) {
      const Message hello = mpi_.wait_for(kHello);
      const json theirs = parse_message(hello);
      const std::string who =
          fmt::format("rank {} ({})", hello.source, theirs.at("host").get<std::string>());
      if (theirs.at("version") != mine.at("version"))
        problems += fmt::format("\n  {}: pyhost {} differs from rank 0's pyhost {}", who,
                                theirs.at("version").get<std::string>(), PYHOST_VERSION);
      else if (theirs.at("fingerprint") != mine.at("fingerprint"))
        problems += fmt::format("\n  {}: its script or options differ from rank 0's", who);
    }
    const json verdict = {{"ok", problems.empty()}, {"why", problems}};
    for (int rank = 1; rank < mpi_.size(); ++rank) mpi_.send(rank, kVerdict, dump(verdict));
    if (!problems.empty()) {
      mpi_.finalize();
      throw PlanError("ranks refused, every rank must run the same pyhost and script:" + problems);
    }
  }

  // Says why on stderr and ends every rank of the job: a rank that cannot go on would leave the
  // others waiting for it.
  [[noreturn]] void abort_job(const std::string& why) {
    fmt::print(stderr, "pyhost: rank {}: {}; aborting the job\n", mpi_.rank(), why);
    std::fflush(stderr);
    mpi_.abort(1);
  }

 public:
  RunResult run(const LocalRun& run_local) {
    const auto start = Clock::now();
    if (mpi_.rank() == 0) {
      ResumedTasks resumed = resume_tasks(plan_.tasks, plan_.resume_path);
      // Serving: static, so that the one task (the script's main) is rank 0's.
      dispatcher_.emplace(resumed.todo, mpi_.size(),
                          !serve_executor_ && plan_.schedule == Schedule::Dynamic);
      collector_.emplace(plan_, std::move(resumed.ok));
    }

    RunPlan local = plan_;
    local.engine = Engine::Local;
    local.schedule = Schedule::Dynamic;
    local.journal_path.clear();
    local.resume_path.clear();
    TaskFeed* feed = &feed_;
    // The local run's records are not this run's: its results go to rank 0's collector.
    local.keep_records = KeepRecords::Failures;
    if (serve_executor_) {
      // In this process, where the mailbox is: the script's main on rank 0, the server elsewhere.
      local.mode = "serial";
      local.workers = 1;
      if (mpi_.rank() != 0) {
        local.target = {TaskTarget::Kind::Module, "pyhost._executor.mpi_serve", {}};
        feed = nullptr;  // its own one task, not one of rank 0's
      }
    }
    if (mpi_.rank() != 0) {
      local.record_output = true;  // rank 0 journals and reports it
      forwarder_.emplace();        // task output goes on to rank 0 as it is written
    } else {
      local.record_output = plan_.record_output || !plan_.journal_path.empty();
    }

    ExecutorMailbox::instance().open(mpi_.rank(), mpi_.size(), [this] { wake(); });
    std::thread comm([this] { communicate(); });
    RunResult local_result;
    try {
      local_result = run_local(local, feed);
    } catch (const std::exception& failure) {
      fmt::print(stderr, "pyhost: rank {}: {}\n", mpi_.rank(), failure.what());
      mpi_.abort(1);  // the other ranks would wait for this one forever
    }
    feed_.local_run_ended();
    comm.join();
    // The run's wall ends here: MPI_Finalize (tens of ms, a barrier) is the job's teardown.
    const auto end = Clock::now();
    if (forwarder_) forwarder_->restore();
    mpi_.finalize();

    RunResult result;
    result.mode = local_result.mode;
    result.workers = local_result.workers;
    result.python = local_result.python;
    result.peak_rss_kb = local_result.peak_rss_kb;
    result.worker_info = local_result.worker_info;
    result.abandoned_workers = local_result.abandoned_workers;
    result.stopped_by_signal = local_result.stopped_by_signal;
    result.flush_failed = local_result.flush_failed;
    result.ranks = mpi_.size();
    result.rank = mpi_.rank();
    if (mpi_.rank() != 0) return result;
    result.wall_s = std::chrono::duration<double>(end - start).count();
    collector_->finish(result, result.stopped_by_signal ? "not run: the run was stopped"
                                                        : "not run: no rank took it");
    return result;
  }

 private:
  void wake() {
    {
      std::lock_guard lock(wake_mutex_);
      woken_ = true;
    }
    wake_cv_.notify_one();
  }

  // The one thread of this rank that makes MPI calls after the handshake. Whatever it cannot
  // handle (a malformed message, an MPI error) ends the job with a message, never std::terminate.
  void communicate() {
    try {
      communicate_until_finished();
    } catch (const std::exception& failure) {
      abort_job(failure.what());
    }
  }

  void communicate_until_finished() {
    // Sleeps of tens of microseconds, not the default 50 us timer slack on top of each.
    ::prctl(PR_SET_TIMERSLACK, 1000UL);
    struct CloseMailbox {  // opened by run(), before the local run can post
      ~CloseMailbox() { ExecutorMailbox::instance().close(); }
    } close_mailbox;
    auto pause = std::chrono::microseconds(10);
    auto last_busy = Clock::now();
    last_heard_.assign(static_cast<std::size_t>(mpi_.size()), Clock::now());
    last_sent_.assign(static_cast<std::size_t>(mpi_.size()), Clock::now());
    for (;;) {
      bool busy = false;
      watch_peers();
      RankFeed::Work work = feed_.take_work();
      for (auto& result : work.results) {
        busy = true;
        result.rank = mpi_.rank();
        result.host = mpi_.host();
        if (mpi_.rank() == 0)
          collector_->record(std::move(result));
        else
          send(0, kResult, dump(to_json(result)));
      }
      if (work.want > 0) {
        busy = true;
        if (mpi_.rank() == 0)
          feed_.give(work.want, dispatcher_->take(0, work.want));
        else
          send(0, kWant, dump({{"n", work.want}}));
      }
      // Executor messages are taken before the output is read: what a call printed (written
      // before its results were posted) goes out ahead of them, and rank 0 prints it first.
      std::vector<Letter> letters = ExecutorMailbox::instance().take_outgoing();
      if (forwarder_) {
        // After the local run ended, everything it wrote goes, before this rank says it is done.
        for (const auto& chunk : forwarder_->take(work.done.has_value())) {
          busy = true;
          send(0, kOutput, static_cast<char>('0' + chunk.fd) + chunk.lines);
        }
      }
      for (auto& letter : letters) {
        busy = true;
        last_letter_ = Clock::now();
        send(letter.peer, kExecutorTag, letter.bytes);
      }
      if (work.done) {
        busy = true;
        if (mpi_.rank() == 0 && serve_executor_)  // the script ended: so does every server
          for (int rank = 1; rank < mpi_.size(); ++rank) send(rank, kExecutorTag, "");
        if (mpi_.rank() == 0)
          dispatcher_->rank_done(0, *work.done);
        else
          send(0, kDone, dump({{"unrun", *work.done}}));
      }
      while (auto message = mpi_.poll()) {
        busy = true;
        bool finished = false;
        try {
          finished = handle(*message);
        } catch (const json::exception& failure) {  // a field missing or of another type
          throw std::runtime_error(fmt::format("malformed message (tag {}) from rank {}: {}",
                                               message->tag, message->source, failure.what()));
        }
        if (finished) return;
      }
      if (mpi_.rank() == 0 && dispatcher_->all_ranks_done()) {
        for (int rank = 1; rank < mpi_.size(); ++rank) send(rank, kFinish, "{}");
        return;
      }
      if (busy) {
        pause = std::chrono::microseconds(10);
        last_busy = Clock::now();
        continue;
      }
      // Nothing to do: wait for a worker of this rank, or poll MPI again a little later (soon
      // while executor calls come and go: their round trips are the executor's latency).
      {
        std::unique_lock lock(wake_mutex_);
        wake_cv_.wait_for(lock, pause, [this] { return woken_; });
        woken_ = false;
      }
      const auto now = Clock::now();
      const bool expecting =
          feed_.awaiting() || now - last_busy < kQuickFor || now - last_letter_ < kLettersRecent;
      pause = std::min<std::chrono::microseconds>(pause * 2, expecting ? kQuickPoll : kSlowPoll);
    }
  }

  // A control message's JSON document; what is not one names its sender and tag.
  static json parse_message(const Message& message) {
    json doc = json::parse(message.bytes, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
      throw std::runtime_error(fmt::format("malformed message (tag {}) from rank {}: {:.60}",
                                           message.tag, message.source, message.bytes));
    return doc;
  }

  // One message from another rank; true when this rank is finished.
  // Says "still here" to the peers this rank has been quiet to, and gives up on a peer that has
  // been silent too long (rank 0 watches every rank not done; the others watch rank 0).
  void watch_peers() {
    const auto now = Clock::now();
    for (int peer = 0; peer < mpi_.size(); ++peer) {
      if (peer == mpi_.rank() || (mpi_.rank() != 0 && peer != 0)) continue;
      const auto index = static_cast<std::size_t>(peer);
      if (now - last_sent_[index] >= kAliveEvery) send(peer, kAlive, "{}");
      const bool watched = mpi_.rank() != 0 || !dispatcher_->rank_done(peer);
      if (watched && now - last_heard_[index] > timeout_) {
        fmt::print(stderr,
                   "pyhost: rank {} lost: no word from it for {} s (its pyhost was killed, or its "
                   "node or network failed); aborting the job. Finished tasks are in the "
                   "--journal, if any; --resume runs the rest.\n",
                   peer, timeout_.count());
        mpi_.abort(1);
      }
    }
  }

  void send(int dest, int tag, std::string_view bytes) {
    mpi_.send(dest, tag, bytes);
    last_sent_[static_cast<std::size_t>(dest)] = Clock::now();
  }

  bool handle(const Message& message) {
    last_heard_[static_cast<std::size_t>(message.source)] = Clock::now();
    if (message.tag == kAlive) return false;
    if (message.tag == kExecutorTag) {
      last_letter_ = Clock::now();
      if (message.bytes.empty() && message.source == 0)
        ExecutorMailbox::instance().close();  // rank 0's script ended: this server stops
      else
        ExecutorMailbox::instance().deliver({message.source, message.bytes});
      return false;
    }
    if (message.tag == kOutput) {
      if (!message.bytes.empty())
        collector_->print(message.bytes[0] == '2' ? 2 : 1,
                          std::string_view(message.bytes).substr(1));
      return false;
    }
    const json doc = parse_message(message);
    switch (message.tag) {
      case kWant: {
        const int asked = doc.at("n").get<int>();
        send(message.source, kTasks,
             dump({{"asked", asked}, {"ids", dispatcher_->take(message.source, asked)}}));
        return false;
      }
      case kTasks:
        feed_.give(doc.at("asked").get<int>(), doc.at("ids").get<std::vector<int>>());
        return false;
      case kResult:
        collector_->record(task_result_from_json(doc));
        return false;
      case kDone:
        dispatcher_->rank_done(message.source, doc.at("unrun").get<std::vector<int>>());
        return false;
      case kFinish:
        return true;
      default:
        throw std::runtime_error(
            fmt::format("unexpected MPI message {} from rank {}", message.tag, message.source));
    }
  }

  const RunPlan& plan_;
  MpiTransport& mpi_;
  const bool serve_executor_;
  RankFeed feed_;
  std::optional<Dispatcher> dispatcher_;      // rank 0
  std::optional<Collector> collector_;        // rank 0
  std::optional<OutputForwarder> forwarder_;  // the other ranks
  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  const std::chrono::seconds timeout_ = peer_timeout();
  std::vector<Clock::time_point> last_heard_, last_sent_;  // per rank, communication thread only
  static constexpr auto kLettersRecent = std::chrono::milliseconds(50);
  Clock::time_point last_letter_;  // the last executor message either way
};

}  // namespace

RunResult run_across_ranks(const RunPlan& requested, const LocalRun& run_local,
                           bool serve_executor) {
  RunPlan plan = requested;
  if (serve_executor) plan.tasks = 1;
  MpiTransport* mpi = nullptr;
  try {
    mpi = &MpiTransport::open();
  } catch (const MpiUnavailable& failure) {
    throw PlanError(std::string("--engine mpi: ") + failure.what());
  }
  // What scripts read as pyhost.rank, pyhost.ranks, pyhost.host.
  ::setenv("PYHOST_RANK", std::to_string(mpi->rank()).c_str(), 1);
  ::setenv("PYHOST_RANKS", std::to_string(mpi->size()).c_str(), 1);
  ::setenv("PYHOST_HOST", mpi->host().c_str(), 1);
  // pyhost.Executor(mode="mpi") on rank 0 has serving ranks (runtime/pyhost/executor.py).
  ::setenv("PYHOST_MPI_EXECUTOR", serve_executor && mpi->size() > 1 ? "1" : "0", 1);
  if (mpi->size() == 1)
    fmt::print(stderr,
               "pyhost: --engine mpi with one rank: rank 0 runs every task (start pyhost under "
               "mpirun -n R for R ranks)\n");
  RankSession session(plan, *mpi, serve_executor);
  session.handshake();
  return session.run(run_local);
}

}  // namespace pyhost::mpi
