# Finds the CPython that pyhost embeds: the newest CPython >= 3.12 with a shared libpython
# (pyenv builds first, then PATH), falling back to 3.11 with a warning. Override with
# -DPYHOST_PYTHON=/path/to/python3, or with -DPython_EXECUTABLE=... (what scikit-build-core passes:
# a `pip install` builds against the interpreter that runs pip, venv or not). Defines the imported target pyhost::python and the
# variables PYHOST_PYTHON_EXE, PYHOST_PYTHON_VERSION, PYHOST_PYTHON_LIBDIR and
# PYHOST_PYTHON_FREETHREADED.
#
# A free-threaded CPython (3.13t, Py_GIL_DISABLED) is taken only when named explicitly with
# -DPYHOST_PYTHON: that is how the companion binary pyhost-ft is built (see PYHOST_FT_PYTHON in
# CMakeLists.txt). Its headers (include/python3.13t) and libpython3.13t.so come from sysconfig as
# for any other build; FindPython is not used, as CMake's does not know the `t` ABI.

set(PYHOST_PYTHON "" CACHE FILEPATH "python3 whose shared libpython pyhost embeds (empty: auto)")

set(_pyhost_probe [=[
import sys, sysconfig, os
v = sys.version_info
libdir = sysconfig.get_config_var("LIBDIR") or ""
lib = sysconfig.get_config_var("LDLIBRARY") or ""
shared = int(bool(sysconfig.get_config_var("Py_ENABLE_SHARED"))) and os.path.exists(os.path.join(libdir, lib))
print(";".join([f"{v.major}.{v.minor}.{v.micro}", str(v.major * 100 + v.minor), str(int(shared)),
                libdir, lib, sysconfig.get_paths()["include"], os.path.realpath(sys.executable),
                str(int(bool(sysconfig.get_config_var("Py_GIL_DISABLED"))))]))
]=])

function(_pyhost_probe_python exe out_var)
  execute_process(COMMAND "${exe}" -I -c "${_pyhost_probe}" OUTPUT_VARIABLE out
                  ERROR_QUIET RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0)
    set(${out_var} "${out}" PARENT_SCOPE)
  else()
    set(${out_var} "" PARENT_SCOPE)
  endif()
endfunction()

# The interpreter named, if any: PYHOST_PYTHON, else Python_EXECUTABLE (FindPython's name for it,
# which scikit-build-core sets to the python running pip).
set(_pyhost_named "${PYHOST_PYTHON}")
if(NOT _pyhost_named AND Python_EXECUTABLE)
  set(_pyhost_named "${Python_EXECUTABLE}")
endif()
if(_pyhost_named)
  set(_candidates "${_pyhost_named}")
else()
  set(_roots "$ENV{PYENV_ROOT}" "$ENV{HOME}/.pyenv" "/root/.pyenv")
  set(_candidates "")
  foreach(root IN LISTS _roots)
    if(root AND IS_DIRECTORY "${root}/versions")
      file(GLOB _found "${root}/versions/*/bin/python3")
      list(APPEND _candidates ${_found})
    endif()
  endforeach()
  foreach(name python3.15 python3.14 python3.13 python3.12 python3.11 python3)
    find_program(_exe_${name} NAMES ${name} PATHS /usr/local/bin /usr/bin NO_CACHE)
    if(_exe_${name})
      list(APPEND _candidates "${_exe_${name}}")
    endif()
  endforeach()
endif()

set(_best_rank 0)
foreach(exe IN LISTS _candidates)
  _pyhost_probe_python("${exe}" info)
  if(NOT info)
    continue()
  endif()
  list(GET info 1 rank)
  list(GET info 2 shared)
  list(GET info 7 nogil)
  # Free-threaded builds change the ABI of the embedding API: the default build unless asked for.
  if(nogil AND NOT _pyhost_named)
    continue()
  endif()
  if(shared AND rank GREATER_EQUAL 311 AND rank GREATER _best_rank)
    set(_best_rank ${rank})
    set(_best_info "${info}")
  endif()
endforeach()

if(_pyhost_named AND NOT _best_info)
  # The one interpreter asked for cannot be embedded: say why, and what would fix it.
  _pyhost_probe_python("${_pyhost_named}" info)
  if(NOT info)
    message(FATAL_ERROR "pyhost: cannot run ${_pyhost_named} to ask it about itself.")
  endif()
  list(GET info 0 _version)
  list(GET info 1 _rank)
  list(GET info 2 _shared)
  if(NOT _shared)
    message(FATAL_ERROR
      "pyhost embeds CPython and needs its shared library (libpython), which ${_pyhost_named} "
      "(CPython ${_version}) does not have: it was built without --enable-shared.\n"
      "Use a CPython built with --enable-shared: Debian's /usr/bin/python3 with "
      "`sudo apt-get install python3-dev`, pyenv's with "
      "`env PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install 3.13`.")
  endif()
  if(_rank LESS 311)
    message(FATAL_ERROR "pyhost needs CPython 3.12 or newer (3.11 at the least); "
                        "${_pyhost_named} is ${_version}.")
  endif()
endif()
if(NOT _best_info)
  message(FATAL_ERROR "pyhost: no CPython >= 3.11 with a shared libpython found "
                      "(tried: ${_candidates}). Pass -DPYHOST_PYTHON=/path/to/python3.")
endif()

list(GET _best_info 0 PYHOST_PYTHON_VERSION)
list(GET _best_info 3 PYHOST_PYTHON_LIBDIR)
list(GET _best_info 4 _lib)
list(GET _best_info 5 _include)
list(GET _best_info 6 PYHOST_PYTHON_EXE)
list(GET _best_info 7 PYHOST_PYTHON_FREETHREADED)

set(PYHOST_PYTHON_INCLUDE "${_include}")
if(NOT EXISTS "${_include}/Python.h")
  message(FATAL_ERROR "pyhost: CPython ${PYHOST_PYTHON_VERSION} (${PYHOST_PYTHON_EXE}) has no "
                      "headers (no ${_include}/Python.h).\nOn Debian or Ubuntu:\n"
                      "  sudo apt-get install python3-dev")
endif()
set(PYHOST_PYTHON_LIBRARY "${PYHOST_PYTHON_LIBDIR}/${_lib}")
add_library(pyhost::python SHARED IMPORTED GLOBAL)
set_target_properties(pyhost::python PROPERTIES
  IMPORTED_LOCATION "${PYHOST_PYTHON_LIBDIR}/${_lib}"
  INTERFACE_INCLUDE_DIRECTORIES "${_include}")

if(PYHOST_PYTHON_FREETHREADED)
  message(STATUS "pyhost: embedding free-threaded CPython ${PYHOST_PYTHON_VERSION} (GIL disabled) "
                 "from ${PYHOST_PYTHON_EXE}")
else()
  message(STATUS "pyhost: embedding CPython ${PYHOST_PYTHON_VERSION} from ${PYHOST_PYTHON_EXE}")
endif()
# The GIL sampler reads CPython's internal GIL structure, verified per minor version in
# host/embed/gil_state.c (3.12 to 3.15): a newer version builds, with its GIL timelines estimated.
if(_best_rank GREATER 315 AND NOT PYHOST_PYTHON_FREETHREADED)
  message(WARNING "pyhost: the GIL layout of CPython ${PYHOST_PYTHON_VERSION} is not verified "
                  "(host/embed/gil_state.c knows 3.12 to 3.15): GIL timelines will be estimated "
                  "from scheduler states, and `pyhost info` says \"unsupported CPython layout\".")
endif()
if(_best_rank LESS 312)
  message(WARNING "pyhost: CPython ${PYHOST_PYTHON_VERSION} has no per-interpreter GIL (PEP 684 needs "
                  "3.12+): --mode subinterpreters will run shared-GIL sub-interpreters, with no "
                  "parallel speed-up.")
endif()
