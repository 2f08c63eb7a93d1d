#include "batch/rank_slots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace pyhost::batch {

RankSlots::RankSlots(std::vector<std::string> hosts, std::vector<int> capacity)
    : hosts_(std::move(hosts)), capacity_(std::move(capacity)) {
  if (capacity_.size() != hosts_.size() || hosts_.empty())
    throw std::invalid_argument("RankSlots: one host and one capacity per rank");
  for (int& c : capacity_) c = std::max(1, c);
  free_ = capacity_;
  lost_.assign(hosts_.size(), false);
}

std::optional<std::vector<int>> RankSlots::find(int count, const std::string& host) const {
  const int n = size();
  std::vector<int> candidates;
  for (int r = 0; r < n; ++r)
    if (!lost_[r] && free_[r] > 0 && (host.empty() || hosts_[r] == host)) candidates.push_back(r);
  if (static_cast<int>(candidates.size()) < count) return std::nullopt;
  // Most free slots first (the least loaded rank); among equals, the one whose turn it is.
  auto distance = [&](int r) { return (r - turn_ + n) % n; };
  std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
    if (free_[a] != free_[b]) return free_[a] > free_[b];
    return distance(a) < distance(b);
  });
  candidates.resize(static_cast<size_t>(count));
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

void RankSlots::take(const std::vector<int>& ranks) {
  for (int r : ranks) --free_.at(static_cast<size_t>(r));
  if (!ranks.empty()) turn_ = (ranks.back() + 1) % size();
}

void RankSlots::release(int rank) {
  auto& f = free_.at(static_cast<size_t>(rank));
  f = std::min(f + 1, capacity_[static_cast<size_t>(rank)]);
}

void RankSlots::lose(int rank) {
  lost_.at(static_cast<size_t>(rank)) = true;
}

bool RankSlots::any_lost() const {
  return std::find(lost_.begin(), lost_.end(), true) != lost_.end();
}

std::optional<std::string> RankSlots::impossible(int count, const std::string& host) const {
  int live = 0;
  for (int r = 0; r < size(); ++r)
    if (!lost_[r] && (host.empty() || hosts_[r] == host)) ++live;
  if (live >= count) return std::nullopt;
  const std::string where = host.empty() ? "" : fmt::format(" on host '{}'", host);
  return fmt::format("it needs {} rank{}{}, and {} live rank{} left", count, count == 1 ? "" : "s",
                     where, live == 0 ? "no" : std::to_string(live), live == 1 ? " is" : "s are");
}

}  // namespace pyhost::batch
