#include "batch/job_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <queue>
#include <stdexcept>

namespace pyhost::batch {

namespace {

std::map<std::string_view, size_t> index_by_name(const JobFile& file) {
  std::map<std::string_view, size_t> index;
  for (size_t i = 0; i < file.jobs.size(); ++i) index.emplace(file.jobs[i].name, i);
  return index;
}

int need_line(const JobSpec& job, const std::string& need) {
  auto it = job.need_lines.find(need);
  return it != job.need_lines.end() ? it->second : job.line;
}

// Depth-first search for a back edge; returns the cycle as job indices (first == last).
std::vector<size_t> find_cycle(const JobFile& file,
                               const std::map<std::string_view, size_t>& index) {
  enum class Color { White, Grey, Black };
  std::vector<Color> color(file.jobs.size(), Color::White);
  std::vector<size_t> stack;
  std::vector<size_t> cycle;

  auto visit = [&](auto&& self, size_t v) -> bool {
    color[v] = Color::Grey;
    stack.push_back(v);
    for (const auto& need : file.jobs[v].needs) {
      size_t w = index.at(need);
      if (color[w] == Color::Grey) {
        cycle.assign(std::find(stack.begin(), stack.end(), w), stack.end());
        cycle.push_back(w);
        return true;
      }
      if (color[w] == Color::White && self(self, w)) return true;
    }
    stack.pop_back();
    color[v] = Color::Black;
    return false;
  };
  for (size_t v = 0; v < file.jobs.size(); ++v)
    if (color[v] == Color::White && visit(visit, v)) break;
  return cycle;
}

}  // namespace

void validate_graph(const JobFile& file) {
  std::vector<Diagnostic> diagnostics;
  auto index = index_by_name(file);
  for (const auto& job : file.jobs) {
    for (const auto& need : job.needs) {
      if (need == job.name) {
        diagnostics.push_back({file.display_path, need_line(job, need),
                               fmt::format("job '{}' needs itself", job.name)});
      } else if (!index.count(need)) {
        diagnostics.push_back(
            {file.display_path, need_line(job, need),
             fmt::format("job '{}' needs '{}', which is not a job in this file", job.name, need)});
      }
    }
  }
  if (!diagnostics.empty()) throw JobFileError(std::move(diagnostics));

  std::vector<size_t> cycle = find_cycle(file, index);
  if (!cycle.empty()) {
    std::string path;
    for (size_t v : cycle) {
      if (!path.empty()) path += " -> ";
      path += file.jobs[v].name;
    }
    const JobSpec& first = file.jobs[cycle[0]];
    throw JobFileError({{file.display_path, need_line(first, file.jobs[cycle[1]].name),
                         fmt::format("dependency cycle: {}", path)}});
  }
}

std::vector<size_t> topological_order(const JobFile& file) {
  auto index = index_by_name(file);
  const size_t n = file.jobs.size();
  std::vector<size_t> missing(n, 0);
  std::vector<std::vector<size_t>> dependents(n);
  for (size_t i = 0; i < n; ++i) {
    for (const auto& need : file.jobs[i].needs) {
      dependents[index.at(need)].push_back(i);
      ++missing[i];
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i)
    if (missing[i] == 0) ready.push(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t v = ready.top();
    ready.pop();
    order.push_back(v);
    for (size_t w : dependents[v])
      if (--missing[w] == 0) ready.push(w);
  }
  if (order.size() != n) throw std::logic_error("topological_order: the graph has a cycle");
  return order;
}

Selection select_jobs(const JobFile& file, const std::vector<std::string>& only) {
  const size_t n = file.jobs.size();
  Selection s{std::vector<bool>(n, only.empty()), std::vector<bool>(n, false)};
  if (only.empty()) return s;
  for (const auto& pattern : only) {
    bool matched = false;
    for (size_t i = 0; i < n; ++i) {
      const JobSpec& job = file.jobs[i];
      if (job.name == pattern ||
          std::find(job.tags.begin(), job.tags.end(), pattern) != job.tags.end()) {
        s.selected[i] = true;
        matched = true;
      }
    }
    if (!matched)
      throw std::invalid_argument(
          fmt::format("--only {}: no job has this name or tag in {}", pattern, file.display_path));
  }
  // Pull in what the selected jobs need, transitively.
  auto index = index_by_name(file);
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i)
    if (s.selected[i]) todo.push_back(i);
  while (!todo.empty()) {
    size_t v = todo.back();
    todo.pop_back();
    for (const auto& need : file.jobs[v].needs) {
      size_t w = index.at(need);
      if (!s.selected[w]) {
        s.selected[w] = true;
        s.pulled[w] = true;
        todo.push_back(w);
      }
    }
  }
  return s;
}

}  // namespace pyhost::batch
