// DeviceBuffer(nbytes, dtype, shape): GPU memory that survives launches (pyhost.device_array
// keeps its device copy in one).
#pragma once

#include <Python.h>

#include <memory>
#include <vector>

#include "kernels/cuda_driver.hpp"
#include "kernels/param_types.hpp"

namespace pyhost::kernels {

struct DeviceBufferObject {
  PyObject_HEAD std::shared_ptr<DeviceMemory>* memory;  // placement-constructed
  const DType* dtype;
  std::vector<Py_ssize_t>* shape;
};

extern PyType_Spec device_buffer_spec;

}  // namespace pyhost::kernels
