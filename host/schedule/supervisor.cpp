#include "schedule/supervisor.hpp"

#include <optional>

#include "util/host_signals.hpp"

namespace pyhost {

int supervise(TaskBoard& board, const SupervisorHooks& hooks) {
  const RunPlan& plan = board.plan();
  const auto grace = std::chrono::duration_cast<TaskBoard::Clock::duration>(
      std::chrono::duration<double>(plan.kill_after_s));
  const auto hard_limit = std::chrono::duration_cast<TaskBoard::Clock::duration>(
      std::chrono::duration<double>(plan.timeout_s + plan.kill_after_s));
  int signal = 0;
  std::optional<TaskBoard::Clock::time_point> stop_deadline;
  while (!board.settled()) {
    board.wait_for_change(std::chrono::milliseconds(20));
    if (hooks.on_tick) hooks.on_tick();
    const auto now = TaskBoard::Clock::now();
    if (int received = HostSignals::received(); received != 0 && signal == 0) {
      signal = received;
      board.stop();
      if (hooks.on_signal) hooks.on_signal(signal);
      stop_deadline = now + grace;
    }
    for (const auto& entry : board.running()) {
      if (plan.timeout_s > 0 && now - entry.since > hard_limit && hooks.on_overdue)
        hooks.on_overdue(entry);
      else if (stop_deadline && now > *stop_deadline && hooks.on_stuck)
        hooks.on_stuck(entry);
    }
  }
  return signal;
}

}  // namespace pyhost
