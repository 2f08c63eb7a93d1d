#include "mpi/dispatcher.hpp"

namespace pyhost::mpi {

Dispatcher::Dispatcher(const std::vector<int>& todo, int ranks, bool dynamic)
    : ranks_(ranks), dynamic_(dynamic), pools_(dynamic ? 1 : static_cast<std::size_t>(ranks)) {
  for (int task : todo) pool_for(task % ranks).push_back(task);
}

std::vector<int> Dispatcher::take(int rank, int count) {
  std::vector<int> tasks;
  auto& pool = pool_for(rank);
  while (count-- > 0 && !pool.empty()) {
    tasks.push_back(pool.front());
    pool.pop_front();
  }
  return tasks;
}

void Dispatcher::rank_done(int rank, const std::vector<int>& unrun) {
  done_.insert(rank);
  for (int task : unrun) pool_for(dynamic_ ? 0 : task % ranks_).push_front(task);
}

std::vector<int> Dispatcher::never_run() const {
  std::vector<int> tasks;
  for (const auto& pool : pools_) tasks.insert(tasks.end(), pool.begin(), pool.end());
  return tasks;
}

}  // namespace pyhost::mpi
