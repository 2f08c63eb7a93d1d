// How a job attempt is started: `pyhost run ...` as a child of pyhost itself, with its files
// under the results directory.
#pragma once

#include "batch/child_process.hpp"
#include "batch/job_file.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace pyhost::batch {

struct AttemptFiles {
  std::filesystem::path stdout_path, stderr_path, json_path;
};

// <dir>/<job>.attempt<k>.stdout|.stderr|.json
AttemptFiles attempt_files(const std::filesystem::path& results_dir, const std::string& job,
                           int attempt);

// Arguments after the program name: run [--mode M] [--workers W] [--tasks T] --json F
// (SCRIPT | -m MODULE | -c CODE) ARGS... Unset mode/workers/tasks keep `pyhost run`'s defaults.
std::vector<std::string> run_arguments(const JobSpec& job, const std::filesystem::path& json_path);

// One attempt: the process to start and where `pyhost run` writes its --json.
struct AttemptCommand {
  LaunchSpec launch;
  std::filesystem::path run_json;
};

// `exe` is the pyhost binary; the environment gets the job's env plus PYHOST_BATCH_JOB and
// PYHOST_BATCH_ATTEMPT.
AttemptCommand make_attempt_command(const JobSpec& job, int attempt,
                                    const std::filesystem::path& exe,
                                    const std::filesystem::path& results_dir);

// Stable digest of what the job runs (target, args, env, cwd, mode, workers, tasks): --resume
// re-runs an `ok` job whose definition changed since.
std::string fingerprint(const JobSpec& job);

// The command as a shell-quoted line, for display only.
std::string display_command(const std::filesystem::path& exe, const std::vector<std::string>& args);

}  // namespace pyhost::batch
