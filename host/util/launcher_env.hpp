// The variables an MPI launcher (mpirun, srun, Hydra) gives the processes it starts. A process
// that inherits them and calls MPI_Init believes it is that rank and aborts the job; so the
// worker processes pyhost starts itself do not get them (processes mode, under mpirun).
#pragma once

#include <string_view>

namespace pyhost {

bool is_launcher_variable(std::string_view name);
// Whether this process's environment has any.
bool has_launcher_variables();

}  // namespace pyhost
