// Per-module state of `_pyhost_kernels` (no static PyObject*: every interpreter, own-GIL
// sub-interpreters included, imports its own module with its own types).
#pragma once

#include <Python.h>

namespace pyhost::kernels {

struct ModuleState {
  PyTypeObject* cpu_kernel_type = nullptr;
  PyTypeObject* cuda_kernel_type = nullptr;
  PyTypeObject* device_buffer_type = nullptr;
};

inline ModuleState* state_of(PyObject* module) {
  return static_cast<ModuleState*>(PyModule_GetState(module));
}

// The state of the module that made `type` (which keeps that module alive).
inline ModuleState* state_from_type(PyTypeObject* type) {
  PyObject* module = PyType_GetModule(type);
  return module ? state_of(module) : nullptr;
}

}  // namespace pyhost::kernels
