#include <algorithm>

#include "pyhost/modes.hpp"

namespace pyhost {
namespace {

// clang-format off
constexpr ModeInfo kModes[] = {
    {.name = "serial", .backend = Backend::InProcess, .interpreter = WorkerInterpreter::Main,
     .baseline = true, .one_gil = true, .no_gil = false, .single_worker = true, .default_all_cores = false,
     .what_runs = "the main interpreter, one task after another",
     .explanation = "the baseline",
     .colour = "#555555"},
    {.name = "threads", .backend = Backend::InProcess, .interpreter = WorkerInterpreter::Main,
     .baseline = false, .one_gil = true, .no_gil = false, .single_worker = false, .default_all_cores = true,
     .what_runs = "N OS threads sharing the main interpreter and its GIL",
     .explanation = "one GIL shared by all threads",
     .colour = "#d62728"},
    {.name = "subinterpreters", .backend = Backend::InProcess,
     .interpreter = WorkerInterpreter::OwnSubinterpreter,
     .baseline = false, .one_gil = false, .no_gil = false, .single_worker = false, .default_all_cores = true,
     .what_runs = "N sub-interpreters, each with its own GIL (PEP 684), each on its own thread",
     .explanation = "one GIL per sub-interpreter",
     .colour = "#1f77b4"},
    {.name = "processes", .backend = Backend::WorkerProcesses,
     .interpreter = WorkerInterpreter::OwnProcess,
     .baseline = false, .one_gil = false, .no_gil = false, .single_worker = false, .default_all_cores = true,
     .what_runs = "N worker processes, each embedding its own interpreter (crash-isolated)",
     .explanation = "one interpreter per process, nothing shared",
     .colour = "#2ca02c"},
    {.name = "freethreaded", .backend = Backend::FreeThreaded, .interpreter = WorkerInterpreter::Main,
     .baseline = false, .one_gil = false, .no_gil = true, .single_worker = false,
     .default_all_cores = true,
     .what_runs = "N OS threads sharing one free-threaded interpreter (CPython 3.13t, no GIL: "
                  "the companion binary pyhost-ft)",
     .explanation = "threads without a GIL (free-threaded CPython)",
     .colour = "#ff7f0e"},
};
// clang-format on

}  // namespace

std::span<const ModeInfo> all_modes() {
  return kModes;
}

const ModeInfo* find_mode(std::string_view name) {
  auto it = std::find_if(std::begin(kModes), std::end(kModes),
                         [name](const ModeInfo& mode) { return mode.name == name; });
  return it == std::end(kModes) ? nullptr : &*it;
}

std::string mode_names() {
  std::string names;
  for (const auto& mode : kModes) names += (names.empty() ? "" : ", ") + std::string(mode.name);
  return names;
}

const ModeInfo& baseline_mode() {
  return *std::find_if(std::begin(kModes), std::end(kModes),
                       [](const ModeInfo& mode) { return mode.baseline; });
}

}  // namespace pyhost
