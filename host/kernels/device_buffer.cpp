#include "kernels/device_buffer.hpp"

#include <new>
#include <string>

#include "kernels/marshal.hpp"

namespace pyhost::kernels {
namespace {

PyObject* device_buffer_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  Py_ssize_t nbytes = 0;
  const char* dtype_name = nullptr;
  PyObject* shape_obj = nullptr;
  static const char* kwlist[] = {"nbytes", "dtype", "shape", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nsO!", const_cast<char**>(kwlist), &nbytes,
                                   &dtype_name, &PyTuple_Type, &shape_obj)) {
    return nullptr;
  }
  const DType* dtype = find_dtype(dtype_name);
  if (!dtype || nbytes < 0) {
    PyErr_SetString(PyExc_ValueError, "DeviceBuffer: bad dtype or size");
    return nullptr;
  }
  std::vector<Py_ssize_t> shape;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shape_obj); ++i) {
    Py_ssize_t s = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape_obj, i));
    if (s == -1 && PyErr_Occurred()) return nullptr;
    shape.push_back(s);
  }
  std::shared_ptr<DeviceMemory> memory;
  std::string error;
  Py_BEGIN_ALLOW_THREADS try {
    memory = std::make_shared<DeviceMemory>(static_cast<std::size_t>(nbytes));
    memory->zero();
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  PyObject* self = type->tp_alloc(type, 0);
  if (!self) return nullptr;
  auto* obj = reinterpret_cast<DeviceBufferObject*>(self);
  obj->memory = new (std::nothrow) std::shared_ptr<DeviceMemory>(std::move(memory));
  obj->shape = new (std::nothrow) std::vector<Py_ssize_t>(std::move(shape));
  obj->dtype = dtype;
  if (!obj->memory || !obj->shape) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return self;
}

void device_buffer_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* obj = reinterpret_cast<DeviceBufferObject*>(self);
  delete obj->memory;  // frees the device memory when the last launch using it is done
  delete obj->shape;
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* device_buffer_copy(PyObject* self, PyObject* arg, bool upload) {
  auto* obj = reinterpret_cast<DeviceBufferObject*>(self);
  BufferView view;
  if (!view.acquire(arg, upload ? PyBUF_SIMPLE : PyBUF_WRITABLE)) return nullptr;
  std::shared_ptr<DeviceMemory> memory = *obj->memory;
  const std::size_t bytes = static_cast<std::size_t>(view.view().len);
  if (bytes != memory->size()) {
    PyErr_Format(PyExc_ValueError, "DeviceBuffer holds %zu bytes, the buffer %zu", memory->size(),
                 bytes);
    return nullptr;
  }
  std::string error;
  Py_BEGIN_ALLOW_THREADS try {
    if (upload) {
      memory->upload(view.view().buf, bytes);
    } else {
      memory->download(view.view().buf, bytes);
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* device_buffer_upload(PyObject* self, PyObject* arg) {
  return device_buffer_copy(self, arg, true);
}
PyObject* device_buffer_download(PyObject* self, PyObject* arg) {
  return device_buffer_copy(self, arg, false);
}
PyObject* device_buffer_nbytes(PyObject* self, void*) {
  return PyLong_FromSize_t((*reinterpret_cast<DeviceBufferObject*>(self)->memory)->size());
}

PyMethodDef device_buffer_methods[] = {
    {"upload", &device_buffer_upload, METH_O, "upload(buffer): host -> device"},
    {"download", &device_buffer_download, METH_O, "download(buffer): device -> host"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef device_buffer_getset[] = {
    {"nbytes", &device_buffer_nbytes, nullptr, "size in bytes", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot device_buffer_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(&device_buffer_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(&device_buffer_dealloc)},
    {Py_tp_methods, device_buffer_methods},
    {Py_tp_getset, device_buffer_getset},
    {Py_tp_doc, const_cast<char*>("DeviceBuffer(nbytes, dtype, shape): GPU memory.")},
    {0, nullptr},
};

}  // namespace

PyType_Spec device_buffer_spec = {"_pyhost_kernels.DeviceBuffer", sizeof(DeviceBufferObject), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
                                  device_buffer_slots};

}  // namespace pyhost::kernels
