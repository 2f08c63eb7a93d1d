// The --sandbox options of `pyhost run` (docs/sandbox.md).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "pyhost/sandbox.hpp"

namespace pyhost::cli {

void add_sandbox_options(CLI::App& app, SandboxPolicy& policy);
Command add_sandboxed_command(CLI::App& parent);

}  // namespace pyhost::cli
