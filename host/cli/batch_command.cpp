// `pyhost batch FILE ...`: command-line glue for pyhost::batch::run_batch().
#include "batch/batch.hpp"
#include "cli/command.hpp"
#include "mpi/mpi_batch.hpp"

#include <memory>

namespace pyhost::cli {

Command add_batch_command(CLI::App& parent) {
  auto options = std::make_shared<batch::BatchOptions>();
  CLI::App* app = parent.add_subcommand(
      "batch",
      "Run the jobs of a TOML job file, each in its own `pyhost run` process: dependencies "
      "(needs), retries, timeouts, results JSON kept up to date after every job");
  app->add_option("FILE", options->job_file, "Job file (TOML)")->required();
  app->add_option("-j,--jobs", options->jobs, "Jobs run at once (default: number of cores)")
      ->check(CLI::Range(1, 4096));
  app->add_option("--only", options->only,
                  "Run only the jobs with this name or tag, plus the jobs they need "
                  "(repeatable, or comma-separated)")
      ->delimiter(',')
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->add_option("--json", options->json,
                  "Results JSON, rewritten after every job (default: "
                  "<results-dir>/results.json)");
  app->add_option("--junit", options->junit, "Also write JUnit XML here (one testcase per job)");
  app->add_option("--resume", options->resume,
                  "Results JSON of an earlier run: its ok jobs are not run again");
  app->add_option("--results-dir", options->results_dir,
                  "Where each attempt's stdout/stderr/JSON go (default: "
                  "<job file dir>/.pyhost-results/<job file stem>)");
  app->add_flag("--dry-run", options->dry_run, "Print the plan in run order; run nothing");
  app->add_flag("--fail-fast", options->fail_fast,
                "Start nothing new once a job ends not ok (running jobs finish)");
  app->add_option_function<std::string>(
         "--engine", [options](const std::string&) { options->engine = Engine::Mpi; },
         "mpi: a pilot job under mpirun/srun: rank 0 keeps the job graph and hands "
         "attempts to every rank (--jobs at once on each)")
      ->check(CLI::IsMember({"mpi"}));
  return {app, [options] {
            return options->engine == Engine::Mpi ? mpi::run_batch_across_ranks(*options)
                                            : batch::run_batch(*options);
          }};
}

}  // namespace pyhost::cli
