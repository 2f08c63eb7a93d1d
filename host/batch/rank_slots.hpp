// Rank 0's table of the ranks of an MPI batch (--engine mpi): each rank's host, its free job
// slots, the ranks lost. Placement spreads attempts over the ranks: the rank with the most free
// slots first, ties in turn. Plain C++, no MPI.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pyhost::batch {

class RankSlots {
 public:
  // `hosts[r]`, `capacity[r]`: rank r's host and the jobs it runs at once (at least 1).
  RankSlots(std::vector<std::string> hosts, std::vector<int> capacity);

  int size() const { return static_cast<int>(hosts_.size()); }
  const std::string& host(int rank) const { return hosts_.at(static_cast<size_t>(rank)); }
  const std::vector<std::string>& hosts() const { return hosts_; }
  int free(int rank) const { return free_.at(static_cast<size_t>(rank)); }

  // `count` distinct live ranks (of `host` when not empty), each with a free slot; nullopt when
  // there are not that many now.
  std::optional<std::vector<int>> find(int count, const std::string& host) const;
  // Takes a slot on each of `ranks` (from find()), and remembers where the turn is.
  void take(const std::vector<int>& ranks);
  void release(int rank);

  // A lost rank gets nothing more.
  void lose(int rank);
  bool lost(int rank) const { return lost_.at(static_cast<size_t>(rank)); }
  bool any_lost() const;
  // Why an attempt of `count` ranks on `host` can never be placed on the live ranks, or nullopt.
  std::optional<std::string> impossible(int count, const std::string& host) const;

 private:
  std::vector<std::string> hosts_;
  std::vector<int> capacity_, free_;
  std::vector<bool> lost_;
  int turn_ = 0;  // the rank that wins the next tie
};

}  // namespace pyhost::batch
