// A TaskFeed over a fixed list of task ids, reporting each finished task to a callback: what a
// run with --journal / --resume uses without MPI (the ids not yet `ok`, results to the journal).
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "schedule/task_feed.hpp"

namespace pyhost {

class ListFeed final : public TaskFeed {
 public:
  ListFeed(std::vector<int> ids, std::function<void(const TaskResult&)> on_finished)
      : ids_(std::move(ids)), on_finished_(std::move(on_finished)) {}

  int next() override {
    std::lock_guard lock(mutex_);
    return cancelled_ || next_ >= ids_.size() ? -1 : ids_[next_++];
  }
  bool exhausted() const override {
    std::lock_guard lock(mutex_);
    return cancelled_ || next_ >= ids_.size();
  }
  void finished(const TaskResult& result) override {
    if (on_finished_) on_finished_(result);
  }
  void cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<int> ids_;
  std::size_t next_ = 0;
  bool cancelled_ = false;
  std::function<void(const TaskResult&)> on_finished_;
};

}  // namespace pyhost
