#include "embed/gil_sampler.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "embed/gil_state.h"

namespace pyhost {
namespace {

using gil::GilState;

// What /proc/self/task/TID/syscall says: running (or runnable), or blocked in a syscall.
struct SyscallView {
  bool readable = false;
  bool running = false;
  long number = -1;
  unsigned long long arg0 = 0;
};

SyscallView read_syscall(int fd) {
  SyscallView view;
  if (fd < 0) return view;
  char buf[160];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return view;
  buf[n] = '\0';
  view.readable = true;
  if (std::strncmp(buf, "running", 7) == 0) {
    view.running = true;
    return view;
  }
  char* end = nullptr;
  view.number = std::strtol(buf, &end, 10);
  if (end && *end == ' ') view.arg0 = std::strtoull(end + 1, nullptr, 16);
  return view;
}

// The state letter of /proc/self/task/TID/stat ('R', 'S', 'D', ...); 0 if unreadable.
char read_sched_state(int fd) {
  if (fd < 0) return 0;
  char buf[512];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');  // the command name may hold spaces
  return paren && paren[1] == ' ' ? paren[2] : 0;
}

int open_task_file(pid_t tid, const char* name) {
  const std::string path = fmt::format("/proc/self/task/{}/{}", tid, name);
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

double hz_from_environment() {
  const char* value = std::getenv("PYHOST_GIL_SAMPLER");
  if (!value || !*value || std::strcmp(value, "estimate") == 0) return 1000;
  const double hz = std::atof(value);
  if (std::strcmp(value, "0") == 0 || hz <= 0) return 0;
  if (hz <= 1) return 1000;  // "1", "on"
  return std::min(hz, 20000.0);
}

// A thread seen without the GIL, on a CPU or runnable, this soon after it held or waited for the
// GIL is taken for still waiting (see sample()); the second bound applies while nobody holds it
// and the thread was waiting.
constexpr double kGraceS = 0.005, kUnheldGraceS = 0.05;
// A waiter whose GIL has not changed hands is taken to wait on without reading its syscall, for
// at most this long.
constexpr double kRecheckS = 0.02;

// The most segments kept per run, shared by its workers (the rest coalesced).
constexpr std::size_t kMaxSegmentsPerRun = 24000;

std::string minor_text(unsigned version) {
  return fmt::format("{}.{}", (version >> 8) & 0xff, version & 0xff);
}

}  // namespace

GilSamplerSupport gil_sampler_support() {
  GilSamplerSupport support;
  const std::string headers = minor_text(pyhost_gil_header_version());
  support.layout = headers;
  constexpr const char* kEstimated = "GIL timelines are estimated from thread scheduler states";
  switch (pyhost_gil_state_status()) {
    case PYHOST_GIL_READABLE:
      support.reads_gil = true;
      support.line = fmt::format("reads the GIL (CPython {} layout)", headers);
      break;
    case PYHOST_GIL_FREE_THREADED:
      support.line = "free-threaded CPython: no GIL to read";
      break;
    case PYHOST_GIL_UNKNOWN_LAYOUT:
      support.line = fmt::format("unsupported CPython {} layout (pyhost verified {}): {}", headers,
                                 pyhost_gil_verified_versions(), kEstimated);
      break;
    case PYHOST_GIL_LIBRARY_MISMATCH:
      support.line = fmt::format("built with CPython {} headers but running libpython {}: {}",
                                 headers, minor_text(pyhost_gil_library_version()), kEstimated);
      break;
    case PYHOST_GIL_OFFSETS_MISMATCH:
      support.line = fmt::format(
          "the running libpython's debug offsets disagree with the CPython {} headers built "
          "with: {}",
          headers, kEstimated);
      break;
  }
  return support;
}

struct GilSampler::Impl {
  struct Worker {
    int worker = 0;
    PyThreadState* tstate = nullptr;
    const void* gil = nullptr;  // null: no readable GIL, estimate
    std::size_t gil_size = 0;
    int interpreter = 0;        // index of its GIL
    int syscall_fd = -1, stat_fd = -1;
    bool active = true;
    double gil_seen_s = -1e9;  // last sample that saw it hold the GIL or block on it
    bool gil_seen_waiting = false;  // ...and that it was blocked on it
    // The last read of its syscall found it blocked on the GIL, then held by `blocked_holder`
    // after `blocked_switches` switches.
    bool blocked_on_gil = false;
    PyThreadState* blocked_holder = nullptr;
    unsigned long blocked_switches = 0;
    double blocked_read_s = 0;
    gil::SegmentRecorder recorder;
  };
  struct Gil {
    int index = 0;
    unsigned long first = 0, latest = 0;
    PyThreadState* holder = nullptr;
    int active = 0;        // registered workers on it: only then is its memory sure to live
  };

  Clock::time_point run_start;
  std::chrono::nanoseconds period;
  std::mutex mutex;
  std::vector<Worker> workers;  // slots; never shrinks
  std::map<const void*, Gil> gils;
  bool readable = pyhost_gil_state_supported() != 0;
  bool forced_estimate = false;  // PYHOST_GIL_SAMPLER=estimate
  long samples = 0;
  long retired_switches = 0;
  int next_gil_index = 0;
  double first_sample = -1, last_sample = 0;
  std::atomic<bool> stopping{false};
  double cpu_s = 0;  // the sampler thread's CPU time, written as it ends
  std::thread thread;

  double now_s() const {
    return std::chrono::duration<double>(Clock::now() - run_start).count();
  }

  void sample(double t) {
    std::lock_guard lock(mutex);
    bool any = false;
    for (auto& [address, g] : gils) {
      if (g.active == 0) continue;  // a sub-interpreter's GIL goes with its interpreter
      unsigned long switches = 0;
      g.holder = pyhost_gil_holder(address, &switches);
      g.latest = switches;
    }
    for (Worker& w : workers) {
      if (!w.active) continue;
      any = true;
      GilState state = GilState::Off;
      if (w.gil) {
        const Gil& g = gils[w.gil];
        if (g.holder == w.tstate) {
          state = GilState::Held;
        } else if (w.blocked_on_gil && g.holder && g.holder == w.blocked_holder &&
                   g.latest == w.blocked_switches && t - w.blocked_read_s < kRecheckS) {
          // Blocked on this GIL at the last read, and the GIL has not changed hands since: a
          // thread blocked in take_gil (or in drop_gil until another takes it) leaves only when
          // the GIL changes hands, so it still waits. Saves a read per sample and waiter.
          state = GilState::Wait;
          w.gil_seen_s = t;
        } else {
          const SyscallView call = read_syscall(w.syscall_fd);
          w.blocked_on_gil = false;
          const auto address = reinterpret_cast<std::uintptr_t>(w.gil);
          if (call.running) {
            // On a CPU or runnable, without the GIL. While another thread holds it, just after
            // holding or waiting for it, this is a thread between two GIL waits (handed over on
            // request, about to ask again); while nobody holds it, just after waiting, one woken
            // to take it and still in the run queue on a busy machine. Otherwise: C code or
            // I/O that released the GIL.
            const double since = t - w.gil_seen_s;
            const bool waiting = g.holder ? since <= kGraceS
                                          : w.gil_seen_waiting && since <= kUnheldGraceS;
            state = waiting ? GilState::Wait : GilState::Off;
          } else if (call.number == SYS_futex && call.arg0 >= address &&
                     call.arg0 < address + w.gil_size) {
            state = GilState::Wait;
            w.gil_seen_s = t;
            w.gil_seen_waiting = true;
            w.blocked_on_gil = true;
            w.blocked_holder = g.holder;
            w.blocked_switches = g.latest;
            w.blocked_read_s = t;
          }
        }
        if (state == GilState::Held) {
          w.gil_seen_s = t;
          w.gil_seen_waiting = false;
        }
      } else {
        // Estimate: on a CPU means running Python; blocked on a futex means a lock, likely the
        // GIL; anything else is off-CPU.
        const char sched = read_sched_state(w.stat_fd);
        if (sched == 'R')
          state = GilState::Held;
        else if (read_syscall(w.syscall_fd).number == SYS_futex)
          state = GilState::Wait;
      }
      w.recorder.add(t, state);
    }
    if (any) {
      ++samples;
      if (first_sample < 0) first_sample = t;
      last_sample = t;
    }
  }

  void loop() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    const long step = static_cast<long>(period.count());
    while (!stopping.load(std::memory_order_relaxed)) {
      next.tv_nsec += step;
      while (next.tv_nsec >= 1'000'000'000L) {
        next.tv_nsec -= 1'000'000'000L;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      // Late (a busy machine): sample now and go on from here, not in a burst.
      if ((now.tv_sec - next.tv_sec) * 1'000'000'000L + (now.tv_nsec - next.tv_nsec) > step)
        next = now;
      sample(now_s());
    }
    timespec cpu{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    cpu_s = static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9;
  }

  void close_files(Worker& w) {
    if (w.syscall_fd >= 0) ::close(w.syscall_fd);
    if (w.stat_fd >= 0) ::close(w.stat_fd);
    w.syscall_fd = w.stat_fd = -1;
  }
};

std::shared_ptr<GilSampler> GilSampler::start(Clock::time_point run_start) {
#ifdef Py_GIL_DISABLED
  // Free-threaded CPython: there is no GIL to hold or wait for, so no GIL timeline (the run's
  // JSON says null, and compare shows no GIL lines for it rather than bars of a GIL it lacks).
  (void)run_start;
  return nullptr;
#endif
  const double hz = hz_from_environment();
  if (hz <= 0) return nullptr;
  std::shared_ptr<GilSampler> sampler(new GilSampler(run_start, hz));
  Impl* impl = sampler->impl_.get();
  try {
    impl->thread = std::thread([impl] { impl->loop(); });
  } catch (const std::system_error&) {
    return nullptr;  // no thread to spare: the run goes on unsampled
  }
  return sampler;
}

GilSampler::GilSampler(Clock::time_point run_start, double hz) : impl_(std::make_unique<Impl>()) {
  impl_->run_start = run_start;
  impl_->period = std::chrono::nanoseconds(static_cast<long long>(1e9 / hz));
  const char* value = std::getenv("PYHOST_GIL_SAMPLER");
  impl_->forced_estimate = value && std::strcmp(value, "estimate") == 0;
}

GilSampler::~GilSampler() {
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& w : impl_->workers) impl_->close_files(w);
}

GilSampler::Registration GilSampler::enroll(const std::shared_ptr<GilSampler>& sampler,
                                            int worker, PyThreadState* tstate) {
  if (!sampler) return {};
  Impl& impl = *sampler->impl_;
  Impl::Worker w;
  w.worker = worker;
  w.tstate = tstate;
  if (!impl.forced_estimate) w.gil = pyhost_gil_of(tstate, &w.gil_size);
  const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  w.syscall_fd = open_task_file(tid, "syscall");
  if (!w.gil) w.stat_fd = open_task_file(tid, "stat");
  std::lock_guard lock(impl.mutex);
  if (auto it = w.gil ? impl.gils.find(w.gil) : impl.gils.end();
      it != impl.gils.end() && it->second.active == 0) {
    // A new interpreter where an ended one was: count the old one's switches, start afresh.
    impl.retired_switches += static_cast<long>(it->second.latest - it->second.first);
    impl.gils.erase(it);
  }
  if (w.gil && !impl.gils.count(w.gil)) {
    Impl::Gil g;
    g.index = impl.next_gil_index++;
    pyhost_gil_holder(w.gil, &g.first);
    g.latest = g.first;
    impl.gils[w.gil] = g;
  }
  if (w.gil) {
    ++impl.gils[w.gil].active;
    w.interpreter = impl.gils[w.gil].index;
  }
  impl.workers.push_back(std::move(w));
  return Registration(sampler, impl.workers.size() - 1);
}

GilSampler::Registration::~Registration() {
  if (!sampler_) return;
  Impl& impl = *sampler_->impl_;
  std::lock_guard lock(impl.mutex);
  Impl::Worker& w = impl.workers[slot_];
  w.active = false;
  w.recorder.finish(impl.now_s());
  impl.close_files(w);
  if (w.gil) {
    Impl::Gil& g = impl.gils[w.gil];
    pyhost_gil_holder(w.gil, &g.latest);  // still alive: the last switch count
    --g.active;
  }
}

void GilSampler::stop_into(RunResult& result) {
  Impl& impl = *impl_;
  impl.stopping = true;
  if (impl.thread.joinable()) impl.thread.join();
  std::lock_guard lock(impl.mutex);
  const double end = impl.now_s();

  // One timeline per worker id; a worker stuck past the run keeps its samples so far.
  std::map<int, std::vector<gil::Segment>> by_worker;
  std::map<int, int> interpreter_of;
  for (auto& w : impl.workers) {
    if (w.active) w.recorder.finish(end);
    auto& segments = by_worker[w.worker];
    segments.insert(segments.end(), w.recorder.segments().begin(), w.recorder.segments().end());
    interpreter_of[w.worker] = w.interpreter;
  }
  std::map<int, gil::SegmentIndex> index;
  for (auto& [worker, segments] : by_worker) {
    segments = gil::merge_segments(std::move(segments));
    index.emplace(worker, gil::SegmentIndex(segments));
  }

  for (auto& task : result.tasks) {
    auto it = index.find(task.worker);
    if (it == index.end()) continue;
    if (auto split = it->second.split(task.start_s, task.end_s)) {
      task.gil_held_s = split->held_s;
      task.gil_wait_s = split->wait_s;
      task.off_cpu_s = split->off_s;
    }
  }

  GilRecord record;
  const bool all_read = std::all_of(impl.workers.begin(), impl.workers.end(),
                                    [](const Impl::Worker& w) { return w.gil != nullptr; });
  record.source = all_read ? "gil" : "estimate";
  if (!all_read)
    record.note = impl.forced_estimate
                      ? "PYHOST_GIL_SAMPLER=estimate: estimated from thread scheduler states"
                  : pyhost_gil_free_threaded()
                      ? "free-threaded CPython: no GIL to read; estimated from thread scheduler "
                        "states (\"held\": on a CPU, \"wait\": blocked on a lock)"
                  : impl.readable
                      ? "GIL state not readable for every worker: estimated from thread "
                        "scheduler states"
                      : "gil sampler: " + gil_sampler_support().line;
  record.samples = impl.samples;
  record.cpu_s = impl.cpu_s;
  if (impl.samples > 1)
    record.period_s = (impl.last_sample - impl.first_sample) / static_cast<double>(impl.samples - 1);
  record.switches = impl.retired_switches;
  for (const auto& [address, g] : impl.gils) record.switches += static_cast<long>(g.latest - g.first);
  const std::size_t cap =
      std::max<std::size_t>(200, kMaxSegmentsPerRun / std::max<std::size_t>(1, by_worker.size()));
  for (auto& [worker, segments] : by_worker) {
    gil::Coalesced coalesced = gil::coalesce_segments(std::move(segments), cap);
    record.resolution_s = std::max(record.resolution_s, coalesced.resolution_s);
    record.workers.push_back({worker, interpreter_of[worker], std::move(coalesced.segments)});
  }
  if (record.resolution_s > 0)
    record.note += fmt::format("{}segments shorter than {:g} ms coalesced (at most {} per worker)",
                               record.note.empty() ? "" : "; ", record.resolution_s * 1000, cap);
  result.gil = std::move(record);
}

}  // namespace pyhost
