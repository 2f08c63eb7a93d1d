// The host side of processes mode: one slot thread per worker process, under the supervisor.

#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <poll.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "backends/backend.hpp"
#include "output/output_mux.hpp"
#include "protocol/frame_io.hpp"
#include "protocol/protocol.hpp"
#include "sandbox/support.hpp"
#include "sandbox/worker_spec.hpp"
#include "schedule/supervisor.hpp"
#include "util/child_process.hpp"
#include "util/host_signals.hpp"
#include "util/launcher_env.hpp"
#include "util/process_info.hpp"
#include "util/unique_fd.hpp"
#include "worker/worker_process.hpp"

namespace pyhost {
namespace {

using proto::Frame;
using proto::FrameType;
using Clock = std::chrono::steady_clock;

using Fd = UniqueFd;

// Close-on-exec from birth: a worker spawned by another slot at the same moment must not inherit
// this worker's pipe ends (it would keep them open and hide this worker's death).
// Kept at 10 and above: binding fd 3 onto the worker's fd 3 would be a no-op dup2 that leaves
// close-on-exec set.
Fd high_fd(int fd) {
  Fd original(fd);
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (moved < 0) throw std::runtime_error(std::string("fcntl: ") + strerror(errno));
  return Fd(moved);
}

std::pair<Fd, Fd> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  return {high_fd(fds[0]), high_fd(fds[1])};
}

// One worker process: frames to it on its fd 3, frames from it on its fd 4, its stdout and
// stderr on pipes read here, an empty stdin.
class WorkerProcess {
 public:
  // `sandbox_spec`: empty, or the worker's confinement (sandbox::WorkerSpec as JSON).
  WorkerProcess(const RunPlan& plan, const std::string& sandbox_spec) {
    auto [frames_in_r, frames_in_w] = make_pipe();
    auto [frames_out_r, frames_out_w] = make_pipe();
    auto [out_r, out_w] = make_pipe();
    auto [err_r, err_w] = make_pipe();
    Fd devnull = high_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ChildSpec spec;
    spec.exe = pyhost_exe();
    spec.args = {"__worker"};
    if (plan.memory_limit_mb > 0)
      spec.args.push_back("--memory-limit=" + std::to_string(plan.memory_limit_mb));
    if (!sandbox_spec.empty()) spec.args.push_back("--sandbox=" + sandbox_spec);
    spec.fds = {{0, devnull.get()},
                {1, out_w.get()},
                {2, err_w.get()},
                {3, frames_in_r.get()},
                {4, frames_out_w.get()}};
    // A worker started by an MPI rank is no rank (util/launcher_env.hpp). (Open MPI tolerates a
    // fork of an initialised process that execs without touching MPI in between.)
    spec.unset_env = launcher_variables_set();
    child_.emplace(ChildProcess::start(spec));
    pid_ = child_->pid();
    to_worker_ = std::move(frames_in_w);
    from_worker_ = std::move(frames_out_r);
    stdout_ = std::move(out_r);
    stderr_ = std::move(err_r);
    for (int fd : {stdout_.get(), stderr_.get()}) ::fcntl(fd, F_SETFL, O_NONBLOCK);
    writer_.emplace(to_worker_.get());
    decoder_.emplace();
    // The child's ends (the locals above) close here, so its death shows as EOF.
  }
  // A worker still running is killed and reaped with its ChildProcess.

  proto::FrameWriter& writer() { return *writer_; }
  pid_t pid() const { return pid_; }
  void kill(int signo) { child_->signal(signo); }

  enum class Event { Frame, Timeout, Closed };

  // Waits for the next frame, passing the worker's stdout/stderr bytes to `on_output` as they
  // arrive. Closed: the frame pipe ended (the worker died); its output has been drained.
  template <typename OnOutput>
  Event next(proto::Frame& frame, std::optional<Clock::time_point> deadline, OnOutput&& on_output) {
    for (;;) {
      if (auto ready = decoder_->next()) {
        frame = std::move(*ready);
        return Event::Frame;
      }
      int wait_ms = 60'000;
      if (deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
        if (left.count() <= 0) return Event::Timeout;
        wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, wait_ms));
      }
      pollfd fds[3] = {
          {from_worker_.get(), POLLIN, 0}, {stdout_.get(), POLLIN, 0}, {stderr_.get(), POLLIN, 0}};
      if (::poll(fds, 3, wait_ms) < 0 && errno != EINTR) return Event::Closed;
      if (fds[1].revents) pump(stdout_, StreamId::Out, on_output);
      if (fds[2].revents) pump(stderr_, StreamId::Err, on_output);
      if (fds[0].revents) {
        char buffer[64 * 1024];
        ssize_t n = ::read(from_worker_.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          drain(on_output);
          return Event::Closed;
        }
        decoder_->feed(std::string_view(buffer, static_cast<std::size_t>(n)));
      }
    }
  }

  // Reads what the worker has written so far; after a Result frame everything the task wrote is
  // already in the pipes, since the worker wrote it before the frame.
  template <typename OnOutput>
  void drain(OnOutput&& on_output) {
    while (pump(stdout_, StreamId::Out, on_output) | pump(stderr_, StreamId::Err, on_output)) {
    }
  }

  // Why the process ended (once its pipe closed): "killed by SIGSEGV", "exited with status 7".
  std::string reap() {
    const ExitStatus status = child_->wait();
    exit_signal_ = status.signal;
    exit_status_ = status.exit_code.value_or(1);
    return status.describe();
  }
  int exit_signal() const { return exit_signal_; }
  int exit_status() const { return exit_status_; }

  // Stops the process: SIGTERM, then SIGKILL if it lingers. Not reaped: reap() does that, once
  // the pid has left the live set.
  void terminate(std::chrono::milliseconds grace) { child_->terminate(grace); }

 private:
  template <typename OnOutput>
  static bool pump(Fd& fd, StreamId stream, OnOutput& on_output) {
    if (fd.get() < 0) return false;
    char buffer[64 * 1024];
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      on_output(stream, std::string_view(buffer, static_cast<std::size_t>(n)));
      // Nobody reads the host's stream any more: the worker's writes must fail too (python's
      // BrokenPipeError), not go on into the void.
      if (stdio_reader_gone(stream)) fd.reset();
      return true;
    }
    if (n == 0) fd.reset();  // EOF: nothing more will come
    return false;
  }

  std::optional<ChildProcess> child_;
  pid_t pid_ = 0;
  Fd to_worker_, from_worker_, stdout_, stderr_;
  std::optional<proto::FrameWriter> writer_;
  std::optional<proto::FrameDecoder> decoder_;
  int exit_signal_ = 0;
  int exit_status_ = 0;
};

// The pids of the live workers, for the supervisor to forward signals to.
class LiveWorkers {
 public:
  void set(int slot, pid_t pid) {
    std::lock_guard lock(mutex_);
    pids_[slot] = pid;
  }
  void clear(int slot) {
    std::lock_guard lock(mutex_);
    pids_.erase(slot);
  }
  void signal_all(int signo) {
    std::lock_guard lock(mutex_);
    for (auto& [slot, pid] : pids_) ::kill(pid, signo);
  }
  void signal(int slot, int signo) {
    std::lock_guard lock(mutex_);
    if (auto it = pids_.find(slot); it != pids_.end()) ::kill(it->second, signo);
  }

 private:
  std::mutex mutex_;
  std::map<int, pid_t> pids_;
};

proto::RunTaskPayload run_task_spec(const RunPlan& plan, int worker) {
  proto::RunTaskPayload spec;
  spec.target = plan.target;
  spec.worker = worker;
  spec.mode = plan.mode;
  spec.workers = plan.workers;
  spec.tasks = plan.tasks;
  spec.timeout_s = plan.timeout_s;
  return spec;
}

class Slot {
 public:
  Slot(TaskBoard& board, LiveWorkers& live, int worker, const std::string& sandbox_spec)
      : board_(board),
        live_(live),
        worker_(worker),
        sandbox_spec_(sandbox_spec),
        // The same for every task of this slot (the task id travels in the frame header).
        run_task_payload_(proto::encode_payload(run_task_spec(board.plan(), worker))) {}

  void run() {
    for (int task = board_.next(worker_); task >= 0; task = board_.next(worker_)) {
      if (!process_ && !start_process()) {
        fail_task(task, "the worker process could not start");
        break;
      }
      // A stop that came while the worker was starting was not forwarded to it.
      if (board_.stopped()) {
        fail_task(task, "not run: the run was stopped");
        break;
      }
      board_.started(task, worker_);
      board_.complete(run_one(task));
      // Under --sandbox a task never meets what an earlier one left in its worker.
      const SandboxPolicy& sandbox = board_.plan().sandbox;
      if (board_.plan().fresh_workers || (sandbox.enabled && !sandbox.reuse_workers))
        stop_process();
    }
    stop_process();
  }

 private:
  bool start_process() {
    const auto start = Clock::now();
    try {
      process_ = std::make_unique<WorkerProcess>(board_.plan(), sandbox_spec_);
      Frame hello;
      auto to_host_stderr = [this](StreamId, std::string_view text) {
        if (const int fd = board_.plan().echo_fd(2); fd >= 0) write_fully(fd, text);
      };
      auto event = process_->next(hello, start + std::chrono::seconds(60), to_host_stderr);
      if (event != WorkerProcess::Event::Frame || hello.type != FrameType::Hello)
        throw std::runtime_error("no Hello from the worker (" + process_->reap() + ")");
    } catch (const std::exception& error) {
      board_.worker_failed(worker_, error.what());
      process_.reset();
      return false;
    }
    live_.set(worker_, process_->pid());
    board_.worker_ready(worker_, std::chrono::duration<double>(Clock::now() - start).count());
    return true;
  }

  void stop_process() {
    if (!process_) return;
    live_.clear(worker_);
    if (process_->writer().send({FrameType::Shutdown, 0, {}})) {
      Frame ignored;
      // A clean exit closes the pipe; one that lingers is terminated. Output after the last
      // task (atexit of the worker) goes to the host's own streams.
      auto untagged = [this](StreamId stream, std::string_view text) {
        const int fd = board_.plan().echo_fd(stream == StreamId::Out ? 1 : 2);
        if (fd >= 0) write_fully(fd, text);
      };
      auto event = process_->next(ignored, Clock::now() + std::chrono::seconds(5), untagged);
      if (event != WorkerProcess::Event::Closed)
        process_->terminate(std::chrono::milliseconds(500));
    }
    process_.reset();
  }

  void fail_task(int task, std::string why) {
    TaskResult result;
    result.id = task;
    result.worker = worker_;
    result.status = TaskStatus::Failed;
    result.error = std::move(why);
    result.start_s = result.end_s = board_.elapsed_s();
    board_.complete(std::move(result));
  }

  TaskResult run_one(int task) {
    const RunPlan& plan = board_.plan();
    TaskResult result;
    result.id = task;
    result.worker = worker_;
    result.start_s = board_.elapsed_s();
    std::optional<Clock::time_point> hard_deadline;
    if (plan.timeout_s > 0)
      hard_deadline =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(plan.timeout_s + plan.kill_after_s));
    process_->writer().send(
        {FrameType::RunTask, static_cast<std::uint32_t>(task), run_task_payload_});
    Frame frame;
    bool finished = false;
    auto to_task = [this, task](StreamId stream, std::string_view text) {
      board_.mux().write(task, stream, text);
    };
    try {
      while (!finished) {
        switch (process_->next(frame, hard_deadline, to_task)) {
          case WorkerProcess::Event::Frame:
            if (frame.type == FrameType::Result) {
              process_->drain(to_task);
              const proto::ResultPayload report = proto::decode_result(frame.payload);
              result.exit_code = report.exit_code;
              result.cpu_s = report.cpu_s;
              result.runq_s = report.runq_s;
              result.peak_rss_kb = report.peak_rss_kb;
              result.error = report.error;
              // A worker cannot know that its process crashed: only the host says `crashed`.
              result.status =
                  report.status == TaskStatus::Crashed ? TaskStatus::Failed : report.status;
              // Threads the task left running would hang the worker's next task or exit.
              if (report.tainted) {
                process_->terminate(std::chrono::milliseconds(200));
                process_->drain(to_task);
                end_process();
                discard_process();
              }
              finished = true;
            }
            break;
          case WorkerProcess::Event::Timeout:
            process_->terminate(std::chrono::milliseconds(500));
            process_->drain(to_task);
            end_process();
            result.status = TaskStatus::Timeout;
            result.exit_code = -1;
            result.error = fmt::format("killed {:g} s after its {:g} s timeout", plan.kill_after_s,
                                       plan.timeout_s);
            discard_process();
            finished = true;
            break;
          case WorkerProcess::Event::Closed: {
            std::string why = end_process();
            const int signo = process_->exit_signal();
            const bool stopped = board_.stopped();
            result.status = stopped ? TaskStatus::Failed : TaskStatus::Crashed;
            result.exit_code = signo ? 128 + signo : process_->exit_status();
            result.error = (stopped ? "interrupted; worker " : "worker ") + why;
            discard_process();
            finished = true;
            break;
          }
        }
      }
    } catch (const std::exception& error) {  // ProtocolError: a frame or payload out of shape
      result.status = TaskStatus::Crashed;
      result.error = std::string("worker protocol error: ") + error.what();
      process_->kill(SIGKILL);
      end_process();
      discard_process();
    }
    board_.mux().finish_task(task);
    result.end_s = board_.elapsed_s();
    return result;
  }

  // Waits for the worker process to end and says why. Its pid leaves the live set first: once
  // reaped, the system may give that pid to another process, which a forwarded signal
  // (LiveWorkers::signal_all) must never reach.
  std::string end_process() {
    live_.clear(worker_);
    return process_->reap();
  }

  void discard_process() {
    live_.clear(worker_);
    process_.reset();
  }

  TaskBoard& board_;
  LiveWorkers& live_;
  int worker_;
  const std::string& sandbox_spec_;
  std::unique_ptr<WorkerProcess> process_;
  const std::string run_task_payload_;
};

class ProcessesBackend final : public ModeBackend {
 public:
  BackendTraits traits() const override { return {.needs_runtime = false, .takes_feed = true}; }
  std::optional<std::string> unavailable(const ModeInfo&) const override {
    if (pyhost_exe().empty())
      return "its workers are pyhost executables, and none was found (set PYHOST_EXE)";
    return std::nullopt;
  }
  RunResult run(const RunPlan& plan, const ModeInfo& mode, const RunContext& context) override;
};

RunResult ProcessesBackend::run(const RunPlan& plan, const ModeInfo&, const RunContext& context) {
  // Before any worker starts: a missing mechanism or an unusable path ends the run here.
  sandbox::require(plan.sandbox);
  std::string sandbox_spec;
  if (plan.sandbox.enabled) {
    const sandbox::WorkerSpec spec = sandbox::worker_spec(plan);
    sandbox::require_reachable(spec, worker_sandbox_reads());
    sandbox_spec = sandbox::encode(spec);
  }
  OutputMux::Options options;
  options.style = plan.effective_output();
  options.tag = plan.tasks > 1;
  options.out_fd = plan.echo_fd(1);
  options.err_fd = plan.echo_fd(2);
  OutputMux mux(options);
  TaskBoard board(plan, mux, context.feed);
  LiveWorkers live;
  HostSignals signals;

  // jthreads: should anything below throw, the slots are still joined on the way out (after the
  // stop that makes them return), where a std::thread would std::terminate the host.
  std::vector<std::jthread> slots;
  struct StopOnUnwind {
    TaskBoard& board;
    LiveWorkers& live;
    ~StopOnUnwind() {
      if (std::uncaught_exceptions() == 0) return;
      board.stop();
      live.signal_all(SIGKILL);
    }
  };
  const int count = std::max(1, std::min(plan.workers, plan.tasks));
  for (int i = 0; i < count; ++i) {
    const int worker = board.new_worker_id();
    // Slot threads keep SIGINT/SIGTERM unblocked: the mask is inherited by the workers they
    // start, which must take those signals (the host's handler only records them).
    slots.emplace_back([&board, &live, worker, &sandbox_spec] {
      Slot(board, live, worker, sandbox_spec).run();
      board.worker_exited(worker);
    });
  }
  SupervisorHooks hooks;
  hooks.on_signal = [&live](int received) { live.signal_all(received); };
  // Hard timeouts are the slots' own (they kill their worker); a stop that lingers is not.
  hooks.on_stuck = [&live](const TaskBoard::Running& entry) { live.signal(entry.worker, SIGKILL); };
  int signal = 0;
  {
    StopOnUnwind stop_on_unwind{board, live};
    signal = supervise(board, hooks);
  }
  for (auto& slot : slots) slot.join();
  RunResult result = board.finish();
  result.stopped_by_signal = signal;
  result.peak_rss_kb = std::max(result.tally.peak_rss_kb, peak_rss_kb_self());
  return result;
}

}  // namespace

ModeBackend& processes_backend() {
  static ProcessesBackend backend;
  return backend;
}

}  // namespace pyhost
