#include "batch/child_process.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "util/launcher_env.hpp"
#include "util/unique_fd.hpp"

namespace pyhost::batch {
namespace {

UniqueFd open_or_throw(const std::filesystem::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (fd.get() < 0)
    throw std::runtime_error(
        fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  return fd;
}

}  // namespace

ChildProcess launch_job(const LaunchSpec& spec) {
  UniqueFd out = open_or_throw(spec.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
  UniqueFd err = open_or_throw(spec.stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
  ChildSpec child;
  child.exe = spec.exe;
  child.args = spec.args;
  // Under mpirun/srun a job is no rank: had it the launcher's variables, a `pyhost run --engine
  // mpi` or mpi4py in it would call MPI_Init as this rank and break the MPI job.
  child.unset_env = launcher_variables_set();
  child.set_env = spec.env;
  child.cwd = spec.cwd;
  child.fds = {{0, -1}, {1, out.get()}, {2, err.get()}};
  child.own_process_group = true;  // timeouts and Ctrl-C stop the job's whole process tree
  child.terminate_with_parent = true;
  return ChildProcess::start(child);
}

}  // namespace pyhost::batch
