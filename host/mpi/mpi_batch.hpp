// `pyhost batch --engine mpi`: a pilot job. Every rank of the MPI job starts `pyhost batch`; rank
// 0 runs the batch as always (job graph, retries, timeouts, results, --resume, JUnit) with a
// RankRunner that hands attempts to ranks, itself included; the other ranks serve (RankServer).
// The one thread of each rank makes every MPI call.
#pragma once

#include "batch/batch.hpp"

namespace pyhost::mpi {

// Exit status as run_batch()'s on rank 0 (2 when MPI is not available or a rank is refused);
// other ranks return 0 once rank 0 says the batch is over. When a rank was lost, rank 0 ends the
// MPI job with MPI_Abort once the results are written (the launcher then exits non-zero).
int run_batch_across_ranks(const batch::BatchOptions& options);

}  // namespace pyhost::mpi
