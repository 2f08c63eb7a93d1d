// `pyhost setup freethreaded|mpi`: gets an optional part this pyhost was built without, for a
// build of a source checkout, by running the checkout's script for it (.ci/setup-<part>) on the
// build tree this pyhost lives in. The quick path (.ci/setup) builds only pyhost itself; the
// messages of a missing part (the free-threaded companion, libpyhost_mpi.so) name this command.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "util/process_info.hpp"

namespace pyhost::cli {
namespace {

namespace fs = std::filesystem;

struct SetupOptions {
  std::string part;
  bool dry_run = false;
};

// The checkout this pyhost was built from: its runtime directory is compiled in.
fs::path source_checkout() {
  return fs::path(PYHOST_SOURCE_RUNTIME_DIR).parent_path();
}

// What to do where there is no checkout to build in (a pip-installed pyhost, a copied binary).
std::string without_checkout(const std::string& part) {
  if (part == "freethreaded")
    return "install pyhost into a venv of a free-threaded CPython (python3.13t -m venv ...; pip "
           "install pyhost): there `pyhost run --mode threads` is the free-threaded mode";
  return "install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and build or "
         "install pyhost again: it builds libpyhost_mpi.so where CMake finds MPI";
}

int run_setup(const SetupOptions& options) {
  const fs::path script = source_checkout() / ".ci" / ("setup-" + options.part);
  const fs::path build_dir = self_exe().parent_path();
  std::error_code error;
  if (!fs::is_regular_file(script, error) || !fs::exists(build_dir / "CMakeCache.txt", error)) {
    fmt::print(stderr,
               "pyhost setup {}: this pyhost ({}) is not a build of a source checkout ({} "
               "not found): {}\n",
               options.part, self_exe().string(), script.string(), without_checkout(options.part));
    return kExitUnavailable;
  }
  fmt::print(stderr, "pyhost setup {}: bash {} {}\n", options.part, script.string(),
             build_dir.string());
  if (options.dry_run) return kExitOk;
  std::fflush(stderr);
  const std::string script_arg = script.string(), build_arg = build_dir.string();
  ::execlp("bash", "bash", script_arg.c_str(), build_arg.c_str(), static_cast<char*>(nullptr));
  fmt::print(stderr, "pyhost setup: cannot run bash: {}\n", std::strerror(errno));
  return kExitFailure;
}

}  // namespace

Command add_setup_command(CLI::App& parent) {
  auto options = std::make_shared<SetupOptions>();
  CLI::App* app = parent.add_subcommand(
      "setup",
      "Get an optional part this pyhost was built without: `freethreaded` (CPython 3.13t and "
      "the companion pyhost-ft, for --mode freethreaded) or `mpi` (Open MPI and "
      "libpyhost_mpi.so, for --engine mpi). Runs the checkout's .ci/setup-PART on this build");
  app->add_option("PART", options->part, "freethreaded | mpi")
      ->required()
      ->check(CLI::IsMember({"freethreaded", "mpi"}));
  app->add_flag("--dry-run", options->dry_run, "Print the command it would run; run nothing");
  return {app, [options] { return run_setup(*options); }};
}

}  // namespace pyhost::cli
