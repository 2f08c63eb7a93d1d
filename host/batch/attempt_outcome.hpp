// Turns how a child ended into a job status (ok | failed | crashed | timeout) and a reason.
#pragma once

#include "batch/child_process.hpp"
#include "batch/job_result.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace pyhost::batch {

struct Outcome {
  Status status = Status::Failed;
  std::string reason;  // empty when ok
};

// `timed_out`: batch stopped the child at its deadline (`timeout_s`). `run`: the child's
// `pyhost run --json` (or null): a non-zero exit whose tasks timed out or crashed inside a
// multi-task run is reported as such.
Outcome classify_attempt(const ExitStatus& exit, bool timed_out, std::optional<double> timeout_s,
                         const nlohmann::ordered_json& run);

}  // namespace pyhost::batch
