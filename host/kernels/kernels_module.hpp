// `_pyhost_kernels`: the native engine behind `@pyhost.kernel` (NVRTC + CUDA driver, and the
// CPU fallback compiled by the system C++ compiler). Built into the pyhost binary when
// PYHOST_WITH_KERNELS is defined; also built as a loadable extension in build/python/.
#pragma once

#include <Python.h>

// Multi-phase init: safe in every interpreter, own-GIL sub-interpreters included.
extern "C" PyObject* PyInit__pyhost_kernels();
