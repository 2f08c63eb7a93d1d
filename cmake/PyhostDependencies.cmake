# The libraries pyhost needs to build, checked all at once before any find_package(... REQUIRED):
# a machine that lacks some gets one message naming the Debian packages to install, not a CMake
# trace about the first one missing (which is what `pip install` users would read first).
#
# Required: fmt, spdlog, CLI11, nlohmann_json, toml++ (all header-only here), and GoogleTest when
# the tests are built (PYHOST_BUILD_TESTS). Optional parts are found where they are used and
# never stop the build: NVRTC (host/kernels), MPI (host/mpi/library), the free-threaded companion
# (PYHOST_FT_PYTHON).

# package name for find_package | its Debian package(s)
set(_pyhost_required
    "fmt|libfmt-dev"
    "spdlog|libspdlog-dev"
    "CLI11|libcli11-dev"
    "nlohmann_json|nlohmann-json3-dev"
    "tomlplusplus|libtomlplusplus-dev")
if(PYHOST_BUILD_TESTS)
  list(APPEND _pyhost_required "GTest|libgtest-dev libgmock-dev")
endif()

set(_pyhost_missing_debs "")
set(_pyhost_missing_names "")
foreach(entry IN LISTS _pyhost_required)
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 package)
  list(GET entry 1 debs)
  find_package(${package} QUIET)
  if(NOT ${package}_FOUND)
    list(APPEND _pyhost_missing_names ${package})
    string(APPEND _pyhost_missing_debs " ${debs}")
  endif()
endforeach()

if(_pyhost_missing_names)
  list(JOIN _pyhost_missing_names ", " _pyhost_names)
  set(_pyhost_hint "")
  if("GTest" IN_LIST _pyhost_missing_names)
    string(CONCAT _pyhost_hint "\n(GoogleTest is needed only for the tests: "
                  "-DPYHOST_BUILD_TESTS=OFF builds without them; `pip install` never builds them.)")
  endif()
  message(FATAL_ERROR
    "pyhost cannot be built: missing ${_pyhost_names}.\n"
    "On Debian or Ubuntu, install them with:\n"
    "  sudo apt-get install${_pyhost_missing_debs}\n"
    "then build again (elsewhere: make their CMake packages findable, e.g. CMAKE_PREFIX_PATH)."
    "${_pyhost_hint}")
endif()
unset(_pyhost_required)
unset(_pyhost_missing_debs)
unset(_pyhost_missing_names)
