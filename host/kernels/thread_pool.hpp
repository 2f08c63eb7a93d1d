// The CPU fallback's worker threads: one process-wide pool (sized to the usable cores, or
// $PYHOST_KERNEL_THREADS) that splits a launch's index space into chunks. The launching thread
// works too, so concurrent launches from several interpreters always make progress.
#pragma once

#include <cstdint>
#include <functional>

namespace pyhost::kernels {

class ThreadPool {
 public:
  static ThreadPool& instance();

  unsigned threads() const;      // threads that work on a launch (workers + the caller)
  void set_threads(unsigned n);  // 0: back to the default

  // Calls fn(begin, end) over chunks covering [0, total); returns when all are done. Every
  // chunk but the last is a multiple of `grain` long (a lane-batched kernel's batch size).
  void parallel_for(std::int64_t total, const std::function<void(std::int64_t, std::int64_t)>& fn,
                    std::int64_t grain = 1);

  struct Impl;

 private:
  ThreadPool();
  Impl* impl_;
};

unsigned default_thread_count();

}  // namespace pyhost::kernels
