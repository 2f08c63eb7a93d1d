// The GIL sampler: a host thread (it never takes a GIL) that records, 1000 times a second, for
// each registered worker thread whether it holds its interpreter's GIL, waits for it, or is
// off-CPU without wanting it. The holder is read from the interpreter's own GIL state (as
// py-spy's --gil does; CPython 3.12 to 3.15, see gil_state.h); a thread that does not hold it
// waits when it is blocked in a futex inside that GIL's structure (/proc/self/task/TID/syscall).
// Where the GIL cannot be read, the scheduler states stand in, and the record says "estimate".
//
// PYHOST_GIL_SAMPLER=0 turns it off; PYHOST_GIL_SAMPLER=N samples at N Hz (default 1000);
// PYHOST_GIL_SAMPLER=estimate uses the scheduler states even where the GIL can be read.
#pragma once

#include <Python.h>

#include <chrono>
#include <memory>
#include <string>

#include "pyhost/results.hpp"

namespace pyhost {

// Whether the sampler reads the GIL in this build, as one line for `pyhost info` and the run's
// note: "reads the GIL (CPython 3.14 layout)", or why not, e.g. "unsupported CPython 3.16 layout
// (verified: 3.12, ...): GIL timelines are estimated from scheduler states".
struct GilSamplerSupport {
  bool reads_gil = false;
  std::string layout;  // "3.14": the CPython minor version of the headers built with
  std::string line;
};
GilSamplerSupport gil_sampler_support();

class GilSampler : public std::enable_shared_from_this<GilSampler> {
 public:
  using Clock = std::chrono::steady_clock;

  // A started sampler, times in seconds since `run_start`; null when turned off.
  static std::shared_ptr<GilSampler> start(Clock::time_point run_start);

  // While alive, the calling thread (a worker, holding `tstate`'s GIL when registering) is
  // sampled. Destroy it before `tstate`'s interpreter goes.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&&) = default;
    Registration& operator=(Registration&&) = delete;  // would drop a registration unended
    ~Registration();

   private:
    friend class GilSampler;
    Registration(std::shared_ptr<GilSampler> sampler, std::size_t slot)
        : sampler_(std::move(sampler)), slot_(slot) {}
    std::shared_ptr<GilSampler> sampler_;
    std::size_t slot_ = 0;
  };
  // Null `sampler`: an empty registration.
  static Registration enroll(const std::shared_ptr<GilSampler>& sampler, int worker,
                             PyThreadState* tstate);

  // Stops sampling, then splits each task's wall into the three states and records the
  // segments, switches and how they were read in `result`.
  void stop_into(RunResult& result);

  ~GilSampler();
  GilSampler(const GilSampler&) = delete;
  GilSampler& operator=(const GilSampler&) = delete;

  struct Impl;

 private:
  explicit GilSampler(Clock::time_point run_start, double hz);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pyhost
