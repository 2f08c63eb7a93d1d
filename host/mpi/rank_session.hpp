// `pyhost run --engine mpi`: this process as one rank of an MPI job. Every rank runs its share of
// the tasks with its local mode's backend, unchanged: a RankFeed (a TaskFeed) gives its TaskBoard
// global task ids from rank 0 and takes its results there. One communication thread per rank
// makes every MPI call. Rank 0 owns the table of who runs what (Dispatcher), runs tasks too,
// prints every rank's output as one stream, keeps the journal and returns the run's result.
#pragma once

#include <functional>

#include "pyhost/run.hpp"
#include "schedule/task_feed.hpp"

namespace pyhost::mpi {

// Runs this rank's share: the local plan with the rank's feed (null: a task of its own).
using LocalRun = std::function<RunResult(const RunPlan&, TaskFeed*)>;

// `plan` is resolved. `serve_executor` (no --tasks given): the script runs once, on rank 0, and
// the other ranks serve its pyhost.Executor(mode="mpi") calls until it ends. Returns the whole
// run's result on rank 0; on other ranks a result with `rank` > 0 and no tasks (rank 0 reports).
// Throws PlanError when MPI is not available or rank 0 refuses a rank (another pyhost version,
// another script).
RunResult run_across_ranks(const RunPlan& plan, const LocalRun& run_local,
                           bool serve_executor = false);

}  // namespace pyhost::mpi
