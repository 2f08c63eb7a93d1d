// The CPU fallback's worker threads: one process-wide pool (sized to the usable cores, or
// $PYHOST_KERNEL_THREADS) that splits a launch's index space into chunks. The launching thread
// works too, so concurrent launches from several interpreters always make progress.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace pyhost::kernels {

// What one index of a kernel cost at its last launch, so that a launch too small to gain from
// the helper threads runs on the calling thread alone: on a machine with more threads ready
// than cores, a helper that took a chunk and lost its core made the caller wait for it, up to
// 100x a small launch's own time (a 128x128 stencil: 0.11 ms median instead of 8 us).
class WorkEstimate {
 public:
  static constexpr std::int64_t kAloneBelowNs = 20000;  // helpers gain at most ~10 us below

  bool measured() const { return ps_per_index_.load(std::memory_order_relaxed) >= 0; }
  // Whether `total` indices are expected to take less than kAloneBelowNs on one thread.
  bool small(std::int64_t total) const;
  // A launch of `total` indices kept its threads busy for `ns` in all.
  void record(std::int64_t total, std::int64_t ns);

 private:
  std::atomic<std::int64_t> ps_per_index_{-1};  // -1: not measured yet
};

class ThreadPool {
 public:
  static ThreadPool& instance();

  unsigned threads() const;      // threads that work on a launch (workers + the caller)
  void set_threads(unsigned n);  // 0: back to the default

  // Calls fn(begin, end) over chunks covering [0, total); returns when all are done. Every
  // chunk but the last is a multiple of `grain` long (a lane-batched kernel's batch size).
  // With `estimate` (the kernel's), a launch it finds small runs as fn(0, total) on the
  // calling thread, and every launch updates it.
  void parallel_for(std::int64_t total, const std::function<void(std::int64_t, std::int64_t)>& fn,
                    std::int64_t grain = 1, WorkEstimate* estimate = nullptr);

  struct Impl;

 private:
  ThreadPool();
  Impl* impl_;
};

unsigned default_thread_count();

}  // namespace pyhost::kernels
