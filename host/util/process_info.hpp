// Facts about processes the host starts or is: its own executable, and signals by name.
#pragma once

#include <filesystem>
#include <string>

namespace pyhost {

// The running executable (children of pyhost are pyhost again: workers, compare and batch runs).
std::filesystem::path self_exe();

// The pyhost executable, which worker processes and child runs are started from: $PYHOST_EXE,
// else this process when it is pyhost, else bin/pyhost of the installation whose libpyhost this
// process loaded (an application that embeds libpyhost). Empty when none can be found.
std::filesystem::path pyhost_exe();

// The directory of the shared object (or executable) that holds libpyhost's code.
std::filesystem::path library_dir();

// "SIGSEGV" for 11; "signal 99" for a number without a name.
std::string signal_name(int signo);

}  // namespace pyhost
