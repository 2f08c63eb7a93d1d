// Supervising a run: hard timeouts, Ctrl-C/SIGTERM, and workers that never come back. The
// backend says how to react (SupervisorHooks); the supervisor decides when.
#pragma once

#include <functional>

#include "schedule/task_board.hpp"

namespace pyhost {

// Reactions of a mode to what the supervisor sees.
struct SupervisorHooks {
  std::function<void()> on_tick;                              // e.g. replace lost workers
  std::function<void(int signal)> on_signal;                  // forward the stop to running tasks
  std::function<void(const TaskBoard::Running&)> on_overdue;  // past timeout + kill-after
  std::function<void(const TaskBoard::Running&)> on_stuck;    // still running after a stop's grace
};

// Watches deadlines and signals until the board is settled; returns the signal that stopped
// the run (0 if none). Runs on the calling thread, which must not hold any GIL.
int supervise(TaskBoard& board, const SupervisorHooks& hooks);

}  // namespace pyhost
