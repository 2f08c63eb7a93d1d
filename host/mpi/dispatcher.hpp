// Rank 0's table of who runs what in an MPI run: which tasks are still to hand out, to which rank
// each went, which ranks have been told there is no more. Plain C++, no MPI.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <vector>

namespace pyhost::mpi {

class Dispatcher {
 public:
  // `todo`: the task ids to run (0..K-1 less those a resumed journal has as ok). Static: task k
  // goes to rank k mod ranks; dynamic: to whichever rank asks first.
  Dispatcher(const std::vector<int>& todo, int ranks, bool dynamic);

  // Up to `count` tasks for `rank`; none: the rank has nothing more to run.
  std::vector<int> take(int rank, int count);
  // A rank's local run ended: `unrun` are tasks it took and never started (back to the pool).
  void rank_done(int rank, const std::vector<int>& unrun);
  bool all_ranks_done() const { return static_cast<int>(done_.size()) == ranks_; }
  bool rank_done(int rank) const { return done_.count(rank) > 0; }
  // Tasks no rank ran (all ranks ended before they could take them).
  std::vector<int> never_run() const;

 private:
  std::deque<int>& pool_for(int rank) { return pools_[dynamic_ ? 0 : rank]; }
  int ranks_;
  bool dynamic_;
  std::vector<std::deque<int>> pools_;
  std::set<int> done_;
};

}  // namespace pyhost::mpi
