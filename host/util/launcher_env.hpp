// The variables an MPI launcher (mpirun, srun, Hydra) gives the processes it starts. A process
// that inherits them and calls MPI_Init believes it is that rank and aborts the job; so the
// worker processes pyhost starts itself do not get them (processes mode, under mpirun).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pyhost {

bool is_launcher_variable(std::string_view name);
// Whether this process's environment has any.
bool has_launcher_variables();
// The names of those set in this process's environment (what a child that is no rank must not
// inherit: ChildSpec::unset_env).
std::vector<std::string> launcher_variables_set();

}  // namespace pyhost
