// What the user sees while a batch runs, on stderr: a live progress line on a terminal, plain
// log lines otherwise (CI logs, files).
#pragma once

#include "batch/scheduler.hpp"

#include <cstdio>
#include <memory>

namespace pyhost::batch {

class Reporter : public SchedulerObserver {
 public:
  // `live`: redraw a progress line in place (stream is a terminal).
  static std::unique_ptr<Reporter> create(std::FILE* stream, bool live);
  // Erases the live line so that other output can follow.
  virtual void finish() {}
};

// "1:05" / "12.3 s" style durations for humans.
std::string human_duration(double seconds);

}  // namespace pyhost::batch
