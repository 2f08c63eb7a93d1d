// Facts about processes the host starts or is: its own executable, and signals by name.
#pragma once

#include <filesystem>
#include <string>

namespace pyhost {

// The running executable (children of pyhost are pyhost again: workers, compare and batch runs).
std::filesystem::path self_exe();

// "SIGSEGV" for 11; "signal 99" for a number without a name.
std::string signal_name(int signo);

}  // namespace pyhost
