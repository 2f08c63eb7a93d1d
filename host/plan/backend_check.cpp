// The combinations of a plan that a mode's backend cannot run, refused before anything starts.
#include <fmt/format.h>

#include "backends/backend.hpp"

namespace pyhost {

void check_plan_for_backend(const RunPlan& plan, const ModeInfo& mode,
                            const BackendTraits& traits) {
  if (traits.takes_feed) return;
  if (plan.engine == Engine::Mpi)
    throw PlanError(fmt::format(
        "--engine mpi cannot run --mode {} in this pyhost: its tasks run in another program that "
        "cannot take them from the ranks; start that program under mpirun itself{}",
        mode.name,
        mode.no_gil ? " (mpirun -n R pyhost-ft run --engine mpi --mode freethreaded ...)" : ""));
  if (traits.hands_on_whole_plan) return;  // --journal and --resume go on with the plan
  if (!plan.journal_path.empty() || !plan.resume_path.empty())
    throw PlanError(
        fmt::format("--journal and --resume cannot be used with --mode {} in this "
                    "pyhost",
                    mode.name));
}

}  // namespace pyhost
