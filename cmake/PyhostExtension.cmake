# pyhost_add_extension(NAME SOURCES...): a CPython extension module for plain python (the one of
# PYHOST_PYTHON_EXE), beside the runtime: in build/python (PYTHONPATH=runtime:build/python) and,
# in a wheel, at the top of site-packages (PYHOST_INSTALL_EXTENSION_DIR,
# PyhostInstallDirs.cmake). Not linked with libpython: the interpreter that loads it provides
# the symbols.
execute_process(
  COMMAND "${PYHOST_PYTHON_EXE}" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX') or '.so')"
  OUTPUT_VARIABLE PYHOST_EXT_SUFFIX OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT PYHOST_EXT_SUFFIX)
  set(PYHOST_EXT_SUFFIX ".so")
endif()

function(pyhost_add_extension name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES
    PREFIX "" SUFFIX "${PYHOST_EXT_SUFFIX}"
    LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/python")
  if(PYHOST_INSTALL_EXTENSION_DIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${PYHOST_INSTALL_EXTENSION_DIR})
  endif()
endfunction()
