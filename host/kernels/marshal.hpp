// Arguments of a launch, Python objects -> what the generated code reads: each scalar in a slot
// of its C++ type, each array as {data pointer, shape[ndim]}, buffers held for the launch.
#pragma once

#include <Python.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/param_types.hpp"

namespace pyhost::kernels {

struct DeviceBufferObject;

// A Py_buffer held for the duration of a launch.
class BufferView {
 public:
  BufferView() = default;
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  ~BufferView() {
    if (held_) PyBuffer_Release(&view_);
  }
  bool acquire(PyObject* obj, int flags) {
    held_ = PyObject_GetBuffer(obj, &view_, flags) == 0;
    return held_;
  }
  const Py_buffer& view() const { return view_; }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

// One argument slot: a scalar or {data pointer, shape[ndim]} as the generated code reads it.
struct Slot {
  alignas(8) unsigned char bytes[32];
};

struct ArrayArg {
  std::size_t param = 0;
  std::unique_ptr<BufferView> buffer;    // host buffer (or null for a device buffer)
  DeviceBufferObject* device = nullptr;  // borrowed for the launch (args tuple holds it)
  std::size_t nbytes = 0;
  bool writable = false;
};

// The launch's argument slots (plus 4 spare ones the CUDA launch fills: dims and error word),
// the pointers to them, and the arrays.
struct Marshaled {
  std::vector<Slot> slots;
  std::vector<void*> ptrs;
  std::vector<ArrayArg> arrays;
};

// params: a tuple of (name, dtype, ndim, writable) from the translator. False with a Python
// exception set when it is malformed.
bool parse_params(PyObject* tuple, std::vector<ParamSpec>& out);

// Checks `args` against `params` (same messages as the python reference device) and fills `m`.
// `device_buffer_type`: the DeviceBuffer type when device arrays are accepted (CUDA), else null.
bool marshal(const std::string& kernel, const std::vector<ParamSpec>& params, PyObject* args,
             Marshaled& m, PyTypeObject* device_buffer_type);

// dims: a tuple of 3 launch dimensions; `total` their product.
bool parse_dims(PyObject* obj, std::int64_t dims[3], std::int64_t& total);

// Python's name of obj's type, for messages.
std::string type_name_of(PyObject* obj);

}  // namespace pyhost::kernels
