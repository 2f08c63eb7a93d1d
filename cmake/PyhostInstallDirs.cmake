# Where `cmake --install` puts each part.
#
# A plain install is a prefix: bin/pyhost, lib/libpyhost.so, include/pyhost/, lib/cmake/pyhost/
# and the runtime package in share/pyhost/runtime/pyhost.
#
# A wheel (scikit-build-core sets SKBUILD; its install prefix is the wheel's site-packages) keeps
# everything inside the `pyhost` package, whose Python files are the runtime itself
# (pyproject.toml's wheel.packages):
#   pyhost/_bin/pyhost[-ft]       the program; the `pyhost` command (a console script) execs it
#   pyhost/_lib/libpyhost.so      and libpyhost_mpi.so, cmake/pyhost/ (find_package(pyhost))
#   pyhost/_include/pyhost/       the public headers
#   _pyhost_kernels*.so           the kernels' extension module, for plain python (top level)
# The program finds its runtime as the directory that holds the pyhost/ it sits in
# (host/embed/interpreter.cpp), and the venv it was installed into (pyvenv.cfg above it).
if(DEFINED SKBUILD)
  set(CMAKE_INSTALL_BINDIR "pyhost/_bin")
  set(CMAKE_INSTALL_LIBDIR "pyhost/_lib")
  set(CMAKE_INSTALL_INCLUDEDIR "pyhost/_include")
  set(PYHOST_INSTALL_RUNTIME_DIR "")  # the wheel's pyhost/ package is the runtime
  set(PYHOST_INSTALL_EXTENSION_DIR ".")
else()
  set(PYHOST_INSTALL_RUNTIME_DIR "share/pyhost/runtime")
  set(PYHOST_INSTALL_EXTENSION_DIR "")  # plain python uses the build tree's build/python
endif()
include(GNUInstallDirs)
