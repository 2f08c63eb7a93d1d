#include "cli/sandbox_options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pyhost/run.hpp"
#include "sandbox/support.hpp"
#include "sandbox/worker_spec.hpp"
#include "util/process_info.hpp"
#include "worker/worker_process.hpp"

namespace pyhost::cli {

void add_sandbox_options(CLI::App& app, SandboxPolicy& policy) {
  const char* group = "Sandbox (processes mode; docs/sandbox.md)";
  app.add_flag("--sandbox", policy.enabled,
               "confine each worker process: own namespaces, an unprivileged uid, only the "
               "files the run needs, no network but loopback, seccomp, limits; a fresh worker "
               "per task")
      ->group(group);
  app.add_flag("--sandbox-net", policy.net, "--sandbox: keep the host's network")->group(group);
  app.add_option("--sandbox-read", policy.read, "--sandbox: one more read-only path (repeatable)")
      ->group(group);
  app.add_option("--sandbox-write", policy.write,
                 "--sandbox: a writable path besides the private /tmp (repeatable)")
      ->group(group);
  app.add_option_function<std::vector<std::string>>(
         "--sandbox-limit",
         [&policy](const std::vector<std::string>& assignments) {
           for (const auto& assignment : assignments) {
             try {
               policy.set_limit(assignment);
             } catch (const std::invalid_argument& error) {
               throw CLI::ValidationError("--sandbox-limit", error.what());
             }
           }
         },
         "--sandbox: NAME=VALUE, NAME one of " + sandbox_limit_names() +
             " (defaults: cpu_s=0 (none), procs=128, file_size_mb=256, open_files=1024, "
             "tmp_mb=256; repeatable)")
      ->group(group);
  app.add_flag("--sandbox-reuse-workers", policy.reuse_workers,
               "--sandbox: run several tasks in one worker (faster; tasks may see each other's "
               "leftovers)")
      ->group(group);
  app.add_flag("--sandbox-best-effort", policy.best_effort,
               "--sandbox: run without the mechanisms this machine lacks, saying which")
      ->group(group);
}

// `pyhost __sandboxed [--sandbox-... options] -- ARGS...`: confines itself as a --sandbox worker
// is confined, then execs `pyhost ARGS...` inside (hidden: pyhost.Executor's sandboxed process
// workers are `pyhost __sandboxed ... -- run -c ...`). Exit 4 / 2 as `pyhost run --sandbox`.
Command add_sandboxed_command(CLI::App& parent) {
  struct Args {
    RunPlan plan;
    std::vector<std::string> command;
  };
  auto args = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand("__sandboxed", "");
  app->group("");
  add_sandbox_options(*app, args->plan.sandbox);
  app->prefix_command();  // the words from the first that is not an option on are pyhost's
  return {app, [args, app] {
            args->command = app->remaining();
            if (!args->command.empty() && args->command.front() == "--")
              args->command.erase(args->command.begin());
            if (args->command.empty()) {
              fmt::print(stderr, "pyhost __sandboxed: nothing to run after --\n");
              return kExitUsage;
            }
            RunPlan& plan = args->plan;
            plan.sandbox.enabled = true;
            plan.target.kind = TaskTarget::Kind::Code;
            std::string spec;
            try {
              sandbox::require(plan.sandbox);
              const sandbox::WorkerSpec worker = sandbox::worker_spec(plan);
              sandbox::require_reachable(worker, worker_sandbox_reads());
              spec = sandbox::encode(worker);
            } catch (const SandboxUnavailable& failure) {
              fmt::print(stderr, "pyhost: error: {}\n", failure.what());
              return kExitSandboxUnavailable;
            } catch (const PlanError& failure) {
              fmt::print(stderr, "pyhost: error: {}\n", failure.what());
              return kExitUsage;
            }
            try {
              enter_sandbox(spec);
            } catch (const std::exception& failure) {
              fmt::print(stderr, "pyhost: --sandbox: {}\n", failure.what());
              return 71;
            }
            const std::string exe = self_exe().string();
            std::vector<char*> argv = {const_cast<char*>(exe.c_str())};
            for (auto& word : args->command) argv.push_back(word.data());
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            fmt::print(stderr, "pyhost: --sandbox: exec {}: {}\n", exe, std::strerror(errno));
            return 71;
          }};
}

}  // namespace pyhost::cli
