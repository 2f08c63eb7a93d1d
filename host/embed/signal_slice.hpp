// How long a blocking wait of the host module (a Channel's get/put, an MPI mailbox's receive)
// sleeps at most between checks for Ctrl-C: short enough that KeyboardInterrupt is not held up.
#pragma once

#include <chrono>

namespace pyhost {

inline constexpr auto kSignalSlice = std::chrono::milliseconds(100);

}  // namespace pyhost
