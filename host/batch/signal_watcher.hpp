// Wakes the batch loop when a child exits (SIGCHLD) or pyhost is asked to stop (SIGINT,
// SIGTERM), with a self-pipe so that the loop can sleep in poll() without races.
#pragma once

#include <chrono>

namespace pyhost::batch {

class SignalWatcher {
 public:
  // Installs the handlers; the previous ones come back on destruction. One instance at a time.
  SignalWatcher();
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Sleeps until a watched signal arrives or `timeout` passes.
  void wait(std::chrono::milliseconds timeout);

  // The last SIGINT/SIGTERM received and not yet taken, or 0.
  int take_stop_signal();

 private:
  int read_fd_ = -1;
};

}  // namespace pyhost::batch
