// One subcommand of the pyhost CLI: each command file registers its options on the parent app
// and hands back what to run once the command line has been parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace pyhost::cli {

// Exit codes shared by every command (documented in docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // a task/job failed, crashed or timed out
inline constexpr int kExitUsage = 2;          // bad command line or invalid input file
inline constexpr int kExitUnavailable = 3;    // the mode asked for is not in this build
inline constexpr int kExitSandboxUnavailable = 4;  // --sandbox: a mechanism is missing here
inline constexpr int kExitFlushFailed = 120;  // flushing stdout/stderr at exit failed (as python)
inline constexpr int kExitInterrupted = 130;  // SIGINT
inline constexpr int kExitTerminated = 143;   // SIGTERM

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// argv of the whole process, as main() got it (for commands that need the raw words).
const std::vector<std::string>& raw_argv();

Command add_run_command(CLI::App& parent);
Command add_info_command(CLI::App& parent);
Command add_batch_command(CLI::App& parent);
Command add_kernels_command(CLI::App& parent);
Command add_worker_command(CLI::App& parent);
Command add_compare_command(CLI::App& parent);
Command add_setup_command(CLI::App& parent);

}  // namespace pyhost::cli
