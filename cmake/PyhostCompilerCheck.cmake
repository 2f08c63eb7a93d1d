# Before project(): a machine with no C++ compiler gets one line saying what to install, rather
# than CMake's "No CMAKE_CXX_COMPILER could be found" and its advice about CMAKE_CXX_COMPILER.
if(NOT DEFINED CMAKE_CXX_COMPILER AND NOT DEFINED ENV{CXX})
  find_program(PYHOST_CXX_PROBE NAMES c++ g++ clang++ NO_CACHE)
  find_program(PYHOST_CC_PROBE NAMES cc gcc clang NO_CACHE)
  if(NOT PYHOST_CXX_PROBE OR NOT PYHOST_CC_PROBE)
    message(FATAL_ERROR "pyhost cannot be built: no C/C++ compiler found (it needs C++20: "
                        "GCC 11+ or Clang 14+).\nOn Debian or Ubuntu:\n"
                        "  sudo apt-get install g++ make cmake")
  endif()
endif()
