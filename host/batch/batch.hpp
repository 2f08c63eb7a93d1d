// `pyhost batch`: runs the jobs of a TOML job file, each attempt as a child `pyhost run`
// process (crash isolation whatever the mode), with dependencies, retries, timeouts and a
// results JSON that is rewritten atomically after every job so that nothing finished is lost.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pyhost::batch {

struct BatchOptions {
  std::filesystem::path job_file;
  int jobs = 0;                       // jobs run at once; 0: number of cores
  std::vector<std::string> only;      // job names or tags; the jobs they need are pulled in
  std::filesystem::path json;         // results JSON; empty: <results_dir>/results.json
  std::filesystem::path junit;        // JUnit XML; empty: none
  std::filesystem::path resume;       // earlier results JSON: its `ok` jobs do not run again
  std::filesystem::path results_dir;  // empty: <job file dir>/.pyhost-results/<job file stem>
  bool dry_run = false;               // print the plan, run nothing
  bool fail_fast = false;             // start nothing new after the first job that is not ok
};

// Exit status: 0 every job ok, 1 any job failed/crashed/timed out/was skipped, 2 invalid job
// file or options, 130/143 when stopped by SIGINT/SIGTERM (results written first).
int run_batch(const BatchOptions& options);

}  // namespace pyhost::batch
