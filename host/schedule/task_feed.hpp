// Where the tasks of a run come from and where their results go, when that is not simply
// "tasks 0..K-1 of this process": a run resumed from a journal skips finished tasks, and a rank
// of an MPI run takes global task ids from rank 0 and sends its results there. The TaskBoard
// consults a feed when the run has one (RunContext::feed, given to the backend that runs the plan).
#pragma once

#include "pyhost/results.hpp"

namespace pyhost {

class TaskFeed {
 public:
  virtual ~TaskFeed() = default;
  // The next task id for a worker of this process, or -1 when no more will come (all handed
  // out, or cancel() was called). May block; called from several worker threads at once.
  virtual int next() = 0;
  // No task will come any more (next() would return -1 at once).
  virtual bool exhausted() const = 0;
  // A task of this process finished (or was settled by the host): called once per task, with
  // the recorded output when the plan records it.
  virtual void finished(const TaskResult& result) = 0;
  // The run stops: next() calls waiting or to come return -1.
  virtual void cancel() = 0;
  // Whether the feed's owner reports the tasks it never handed out (an MPI rank's tasks are
  // rank 0's to report): then the board leaves them out of its result and tally.
  virtual bool settles_unrun() const { return false; }
};

}  // namespace pyhost
