#include "batch/attempt_runner.hpp"

#include <signal.h>

#include <algorithm>
#include <utility>

namespace pyhost::batch {

void LocalRunner::launch(AttemptKey key, const LaunchSpec& launch) {
  try {
    running_.push_back({key, launch_job(launch)});
  } catch (const std::exception& e) {
    AttemptEnd end;
    end.key = key;
    end.error = e.what();
    ended_.push_back(std::move(end));
  }
}

std::vector<AttemptEnd> LocalRunner::take_ended() {
  std::vector<AttemptEnd> ended = std::exchange(ended_, {});
  for (auto it = running_.begin(); it != running_.end();) {
    const pid_t group = it->child.pid();
    if (auto exit = it->child.try_wait()) {
      // What a stopped job left behind (its own children) goes with it.
      if (it->signalled) ::kill(-group, SIGKILL);
      AttemptEnd end;
      end.key = it->key;
      end.exit = *exit;
      ended.push_back(std::move(end));
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
  return ended;
}

void LocalRunner::signal(AttemptKey key, int sig) {
  for (auto& r : running_)
    if (r.key == key) {
      r.signalled = true;
      r.child.signal_group(sig);
    }
}

void LocalRunner::wait(SignalWatcher& signals, std::chrono::milliseconds timeout) {
  if (!ended_.empty()) return;
  signals.wait(timeout);
}

}  // namespace pyhost::batch
