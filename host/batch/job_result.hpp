// Outcome of a job and of each of its attempts, and their JSON form (the results file schema).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/files.hpp"

namespace pyhost::batch {

// Same vocabulary as `pyhost run --json`, plus `skipped` (never started).
enum class Status { Ok, Failed, Crashed, Timeout, Skipped };

std::string_view to_string(Status status);
std::optional<Status> status_from_string(std::string_view text);

struct AttemptResult {
  int attempt = 1;  // 1-based
  Status status = Status::Failed;
  std::optional<int> exit_code;  // set when the child exited
  std::string signal;            // "SIGSEGV" when the child was killed by a signal
  std::string reason;            // why it is not ok, in words
  double start_s = 0, end_s = 0, wall_s = 0, cpu_s = 0;  // start/end: since the batch started
  std::string stdout_path, stderr_path, run_json_path;
  FileTail out, err;
  std::vector<int> ranks;          // --engine mpi: the ranks it ran on (more than one: ranks = N)
  std::vector<std::string> hosts;  // ... and their hosts; both empty without MPI
  nlohmann::ordered_json
      run;  // the child's `pyhost run --json`, without task outputs; null if none
};

struct JobResult {
  std::string name;
  Status status = Status::Skipped;
  std::string reason;  // skipped: why; otherwise the last attempt's reason
  std::vector<AttemptResult> attempts;
  std::vector<std::string> tags, needs;
  std::vector<std::string> command;  // argv of the last attempt
  std::string fingerprint;           // of the job's definition, to detect changes on --resume
  bool interrupted = false;          // stopped by Ctrl-C / SIGTERM of pyhost batch
};

nlohmann::ordered_json to_json(const AttemptResult& attempt);
nlohmann::ordered_json to_json(const JobResult& job);

// object[key] when it is a string, else "" (for documents written by others or edited).
std::string string_field(const nlohmann::ordered_json& object, const char* key);

// Removes the per-task stdout/stderr from a `pyhost run --json` document (they are already in
// the job's own files).
nlohmann::ordered_json strip_run_outputs(nlohmann::ordered_json run);

}  // namespace pyhost::batch
