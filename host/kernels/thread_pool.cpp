#include "kernels/thread_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pyhost::kernels {

namespace {

// One step of a spin-wait: a few pause instructions, then the CPU is offered to any other thread
// ready on it. With more threads ready than cores, the scheduler may put a helper on the
// launching thread's core: a plain spin there holds back the very thread it waits for until
// the spin ends (100-200 us more on a small launch, launch after launch).
void spin_pause() {
  for (int i = 0; i < 64; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  sched_yield();
}

}  // namespace

// Not in the anonymous namespace: ThreadPool::Impl (external linkage) holds Jobs, and in a unity
// build, where this file is included into another, GCC warns about that (-Wsubobject-linkage).
namespace thread_pool_detail {

struct Job {
  std::int64_t total = 0;
  std::int64_t chunk = 1;
  unsigned max_helpers = 0;  // workers that may join (guarded by the pool's mutex)
  unsigned helpers = 0;
  const std::function<void(std::int64_t, std::int64_t)>* fn = nullptr;
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> done{0};
  std::atomic<std::int64_t> busy_ns{0};  // time spent in fn, all threads together
  std::mutex mu;
  std::condition_variable finished;

  // Runs chunks until none is left; true if this call finished the job.
  void work() {
    for (;;) {
      std::int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
      if (begin >= total) return;
      std::int64_t end = std::min(total, begin + chunk);
      const auto start = std::chrono::steady_clock::now();
      (*fn)(begin, end);
      busy_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count(),
                        std::memory_order_relaxed);
      if (done.fetch_add(end - begin, std::memory_order_acq_rel) + (end - begin) == total) {
        std::lock_guard<std::mutex> lock(mu);
        finished.notify_all();
      }
    }
  }
};

}  // namespace thread_pool_detail

using thread_pool_detail::Job;

struct ThreadPool::Impl {
  std::mutex mu;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Job>> jobs;
  std::vector<std::thread> workers;
  unsigned wanted = 0;  // threads per launch incl. the caller

  void ensure_workers(unsigned n) {
    // Workers are only ever added (a launch uses at most `wanted` of them at once).
    while (workers.size() + 1 < n) {
      workers.emplace_back([this] { loop(); });
      workers.back().detach();
    }
  }

  // Jobs pushed so far: workers spin on it for a moment before they sleep.
  std::atomic<std::uint64_t> pushed{0};

  // Waits up to kSpin for a job newer than `seen` without sleeping: a Python loop of launches
  // then finds the workers awake instead of paying a futex wake-up (tens of microseconds, more
  // on a busy machine) per launch; past kSpin the worker sleeps on the condition variable.
  void spin_for_job(std::uint64_t seen) {
    constexpr auto kSpin = std::chrono::microseconds(200);
    const auto until = std::chrono::steady_clock::now() + kSpin;
    while (pushed.load(std::memory_order_acquire) == seen) {
      spin_pause();
      if (std::chrono::steady_clock::now() >= until) return;
    }
  }

  void loop() {
    std::uint64_t seen = pushed.load(std::memory_order_acquire);
    for (;;) {
      spin_for_job(seen);
      seen = pushed.load(std::memory_order_acquire);
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait(lock, [this] { return !jobs.empty(); });
        job = jobs.front();
        if (job->next.load(std::memory_order_relaxed) >= job->total ||
            job->helpers >= job->max_helpers) {
          jobs.pop_front();  // done, or enough threads on it: the rest is the caller's
          continue;
        }
        ++job->helpers;
      }
      job->work();
    }
  }
};

unsigned default_thread_count() {
  if (const char* env = std::getenv("PYHOST_KERNEL_THREADS"); env && *env) {
    long n = std::strtol(env, nullptr, 10);
    if (n >= 1 && n <= 4096) return static_cast<unsigned>(n);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

namespace {
ThreadPool* g_pool = nullptr;
std::once_flag g_atfork_once;
std::mutex g_pool_mu;

// A forked child has none of the parent's worker threads (and maybe a locked mutex): it starts
// a fresh pool. The old one is leaked on purpose.
void forget_pool_in_child() {
  new (&g_pool_mu) std::mutex();
  g_pool = nullptr;
}
}  // namespace

ThreadPool::ThreadPool() : impl_(new Impl) {
  impl_->wanted = default_thread_count();
}

ThreadPool& ThreadPool::instance() {
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = new ThreadPool();  // process lifetime: never destroyed
  return *g_pool;
}

unsigned ThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->wanted;
}

void ThreadPool::set_threads(unsigned n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->wanted = n ? n : default_thread_count();
}

bool WorkEstimate::small(std::int64_t total) const {
  const std::int64_t ps = ps_per_index_.load(std::memory_order_relaxed);
  return ps >= 0 && static_cast<double>(ps) * static_cast<double>(total) < kAloneBelowNs * 1e3;
}

void WorkEstimate::record(std::int64_t total, std::int64_t ns) {
  if (total <= 0) return;
  const double ps = static_cast<double>(ns) * 1e3 / static_cast<double>(total);
  ps_per_index_.store(static_cast<std::int64_t>(std::min(ps, 1e15)), std::memory_order_relaxed);
}

void ThreadPool::parallel_for(std::int64_t total,
                              const std::function<void(std::int64_t, std::int64_t)>& fn,
                              std::int64_t grain, WorkEstimate* estimate) {
  if (total <= 0) return;
  unsigned n;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    n = impl_->wanted;
  }
  if (n <= 1 || total < 2 || (estimate && estimate->small(total))) {
    const auto start = std::chrono::steady_clock::now();
    fn(0, total);
    if (estimate) {
      estimate->record(total, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
    }
    return;
  }
  auto job = std::make_shared<Job>();
  job->total = total;
  // ~8 chunks per thread balances uneven work (mandelbrot) at a small cost for even work.
  // Chunks are whole batches of `grain` indices: only the launch's last one runs a partial batch.
  grain = std::max<std::int64_t>(1, grain);
  const std::int64_t even = total / (static_cast<std::int64_t>(n) * 8);
  job->chunk = std::max<std::int64_t>(grain, (even + grain - 1) / grain * grain);
  job->fn = &fn;
  job->max_helpers = n - 1;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->ensure_workers(n);
    impl_->jobs.push_back(job);
    impl_->pushed.fetch_add(1, std::memory_order_release);
  }
  impl_->wake.notify_all();
  job->work();
  // The helpers' last chunks are usually about done: wait for them spinning a moment before
  // sleeping, so the launch does not also pay for this thread's wake-up.
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
  while (job->done.load(std::memory_order_acquire) != total &&
         std::chrono::steady_clock::now() < spin_until) {
    spin_pause();
  }
  {
    std::unique_lock<std::mutex> lock(job->mu);
    job->finished.wait(lock, [&] { return job->done.load(std::memory_order_acquire) == total; });
  }
  if (estimate) estimate->record(total, job->busy_ns.load(std::memory_order_relaxed));
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = std::find(impl_->jobs.begin(), impl_->jobs.end(), job);
  if (it != impl_->jobs.end()) impl_->jobs.erase(it);
}

}  // namespace pyhost::kernels
