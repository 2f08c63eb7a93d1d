// `pyhost batch`: runs the jobs of a TOML job file, each attempt as a child `pyhost run`
// process (crash isolation whatever the mode), with dependencies, retries, timeouts and a
// results JSON that is rewritten atomically after every job so that nothing finished is lost.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "pyhost/run.hpp"

namespace pyhost::batch {

class AttemptRunner;

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
  Engine engine = Engine::Local;      // Mpi: across the ranks of an MPI job (cli/, mpi/)
};

// Where attempts run when not as children of this process: the ranks of an MPI job
// (--engine mpi, host/mpi/mpi_batch.cpp), seen from rank 0.
class BatchEngine {
 public:
  virtual ~BatchEngine() = default;
  // Each rank's host, rank 0 first: what the job file's `ranks` and `host` are checked against.
  virtual const std::vector<std::string>& rank_hosts() const = 0;
  // The runner of the batch: `jobs` at once on each rank (0: each rank's number of cores).
  virtual std::unique_ptr<AttemptRunner> make_runner(int jobs) = 0;
};

// Exit status: 0 every job ok, 1 any job failed/crashed/timed out/was skipped, 2 invalid job
// file or options, 130/143 when stopped by SIGINT/SIGTERM (results written first).
// `engine`: null runs every attempt here; `ranks`/`host` in the job file are then errors.
int run_batch(const BatchOptions& options, BatchEngine* engine = nullptr);

}  // namespace pyhost::batch
