// The `needs` graph: validation (unknown names, cycles), run order and --only selection.
#pragma once

#include "batch/job_file.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace pyhost::batch {

// Throws JobFileError naming unknown needs and the first dependency cycle found.
void validate_graph(const JobFile& file);

// Indices of file.jobs in an order where every job comes after its needs; among jobs whose
// needs are met, file order wins. Requires a valid graph.
std::vector<size_t> topological_order(const JobFile& file);

struct Selection {
  std::vector<bool> selected;  // per job: runs in this batch
  std::vector<bool> pulled;    // per job: selected only because a selected job needs it
};

// --only NAME|TAG...: the jobs whose name or one of whose tags equals a pattern, plus
// (transitively) the jobs they need, which must succeed first. No pattern: every job.
// Throws std::invalid_argument for a pattern that matches no job name or tag.
Selection select_jobs(const JobFile& file, const std::vector<std::string>& only);

}  // namespace pyhost::batch
