#include "kernels/marshal.hpp"

#include <climits>
#include <cstring>

#include "kernels/device_buffer.hpp"
#include "pyhost/py_ref.hpp"

namespace pyhost::kernels {
namespace {

std::string str_of(PyObject* obj) {
  PyRef s = PyRef::steal(PyObject_Str(obj));
  const char* c = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
  if (!c) {
    PyErr_Clear();
    return "?";
  }
  return c;
}

bool launch_error(const std::string& kernel, const ParamSpec& p, const std::string& what) {
  std::string msg = "kernel '" + kernel + "': argument '" + p.name + "' " + what;
  PyErr_SetString(PyExc_ValueError, msg.c_str());
  return false;
}

bool format_ok(const char* format, Py_ssize_t itemsize, const DType& d) {
  std::string f = format ? format : "B";
  if (!f.empty() && (f[0] == '@' || f[0] == '=' || f[0] == '<')) f.erase(0, 1);
  if (f.size() != 1 || itemsize != d.itemsize) return false;
  return f[0] == d.format || std::strchr(d.also, f[0]) != nullptr;
}

bool put_scalar(const std::string& kernel, const ParamSpec& p, PyObject* obj, Slot& slot) {
  const DType& d = *p.dtype;
  std::memset(slot.bytes, 0, sizeof slot.bytes);
  if (d.is_float) {
    PyNumberMethods* nb = Py_TYPE(obj)->tp_as_number;
    bool numeric =
        PyFloat_Check(obj) || PyLong_Check(obj) || (nb && (nb->nb_float || nb->nb_index));
    if (!numeric) {
      return launch_error(kernel, p,
                          "must be a number (" + p.type_name() + "), got " + type_name_of(obj));
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) return false;
    if (d.itemsize == 4) {
      float f = static_cast<float>(v);
      std::memcpy(slot.bytes, &f, sizeof f);
    } else {
      std::memcpy(slot.bytes, &v, sizeof v);
    }
    return true;
  }
  PyRef index = PyRef::steal(PyNumber_Index(obj));
  if (!index) {
    PyErr_Clear();
    return launch_error(kernel, p,
                        "must be an integer (" + p.type_name() + "), got " + type_name_of(obj));
  }
  if (d.is_bool) {
    int truth = PyObject_IsTrue(index.get());
    if (truth < 0) return false;
    slot.bytes[0] = static_cast<unsigned char>(truth);
    return true;
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(index.get(), &overflow);
  if (v == -1 && PyErr_Occurred()) return false;
  long long lo = 0, hi = 0;
  switch (d.itemsize) {
    case 1:
      lo = 0, hi = 255;
      break;
    case 4:
      lo = d.is_signed ? -2147483648LL : 0, hi = d.is_signed ? 2147483647LL : 4294967295LL;
      break;
    default:
      lo = LLONG_MIN, hi = LLONG_MAX;
      break;
  }
  if (overflow || v < lo || v > hi) {
    return launch_error(kernel, p,
                        "= " + str_of(index.get()) + " does not fit in " + p.type_name());
  }
  if (d.itemsize == 1) {
    slot.bytes[0] = static_cast<unsigned char>(v);
  } else if (d.itemsize == 4) {
    auto x = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    std::memcpy(slot.bytes, &x, sizeof x);
  } else {
    std::memcpy(slot.bytes, &v, sizeof v);
  }
  return true;
}

}  // namespace

std::string type_name_of(PyObject* obj) {
#if PY_VERSION_HEX >= 0x030B0000
  PyRef name = PyRef::steal(PyType_GetName(Py_TYPE(obj)));
  if (name) {
    const char* s = PyUnicode_AsUTF8(name.get());
    if (s) return s;
  }
  PyErr_Clear();
#endif
  return Py_TYPE(obj)->tp_name;
}

bool parse_params(PyObject* tuple, std::vector<ParamSpec>& out) {
  if (!PyTuple_Check(tuple)) {
    PyErr_SetString(PyExc_TypeError, "params must be a tuple of (name, dtype, ndim, writable)");
    return false;
  }
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); ++i) {
    PyObject* item = PyTuple_GET_ITEM(tuple, i);
    const char* name = nullptr;
    const char* dtype = nullptr;
    int ndim = 0, writable = 0;
    if (!PyArg_ParseTuple(item, "ssip", &name, &dtype, &ndim, &writable)) return false;
    ParamSpec spec;
    spec.name = name;
    spec.dtype = find_dtype(dtype);
    spec.ndim = ndim;
    spec.writable = writable != 0;
    if (!spec.dtype || ndim < 0 || ndim > 3) {
      PyErr_Format(PyExc_ValueError, "bad parameter spec for '%s'", name);
      return false;
    }
    out.push_back(std::move(spec));
  }
  return true;
}

bool marshal(const std::string& kernel, const std::vector<ParamSpec>& params, PyObject* args,
             Marshaled& m, PyTypeObject* device_buffer_type) {
  if (!PyTuple_Check(args)) {
    PyErr_SetString(PyExc_TypeError, "args must be a tuple");
    return false;
  }
  if (static_cast<std::size_t>(PyTuple_GET_SIZE(args)) != params.size()) {
    PyErr_Format(PyExc_TypeError, "kernel '%s' takes %zu argument(s), got %zd", kernel.c_str(),
                 params.size(), PyTuple_GET_SIZE(args));
    return false;
  }
  m.slots.resize(params.size() + 4);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ParamSpec& p = params[i];
    PyObject* obj = PyTuple_GET_ITEM(args, static_cast<Py_ssize_t>(i));
    Slot& slot = m.slots[i];
    if (p.ndim == 0) {
      if (!put_scalar(kernel, p, obj, slot)) return false;
      continue;
    }
    std::memset(slot.bytes, 0, sizeof slot.bytes);
    std::int64_t shape[3] = {0, 0, 0};
    ArrayArg arg;
    arg.param = i;
    arg.writable = p.writable;
    void* data = nullptr;
    if (device_buffer_type && PyObject_TypeCheck(obj, device_buffer_type)) {
      auto* dev = reinterpret_cast<DeviceBufferObject*>(obj);
      if (dev->dtype != p.dtype || static_cast<int>(dev->shape->size()) != p.ndim) {
        return launch_error(kernel, p, "must be a device array of " + p.type_name());
      }
      for (int k = 0; k < p.ndim; ++k) shape[k] = (*dev->shape)[static_cast<std::size_t>(k)];
      arg.device = dev;
      arg.nbytes = (*dev->memory)->size();
    } else {
      auto buf = std::make_unique<BufferView>();
      if (!buf->acquire(obj, PyBUF_RECORDS_RO)) {
        PyErr_Clear();
        return launch_error(kernel, p,
                            "must be a buffer of " + p.type_name() +
                                " (array.array, memoryview, bytearray or numpy array), got " +
                                type_name_of(obj));
      }
      const Py_buffer& v = buf->view();
      if (!format_ok(v.format, v.itemsize, *p.dtype)) {
        return launch_error(kernel, p,
                            std::string("must hold ") + p.dtype->name +
                                " elements (buffer format '" + p.dtype->format +
                                "'), got format '" + (v.format ? v.format : "B") + "'");
      }
      if (v.ndim != p.ndim) {
        return launch_error(
            kernel, p,
            "must have " + std::to_string(p.ndim) + " dimension(s), got " + std::to_string(v.ndim));
      }
      if (!PyBuffer_IsContiguous(&v, 'C')) return launch_error(kernel, p, "must be C-contiguous");
      if (p.writable && v.readonly) {
        return launch_error(kernel, p, "is read-only but the kernel writes to it");
      }
      for (int k = 0; k < p.ndim; ++k) shape[k] = v.shape[k];
      data = v.buf;
      arg.nbytes = static_cast<std::size_t>(v.len);
      arg.buffer = std::move(buf);
    }
    std::memcpy(slot.bytes, &data, sizeof data);
    std::memcpy(slot.bytes + 8, shape, sizeof(std::int64_t) * static_cast<std::size_t>(p.ndim));
    m.arrays.push_back(std::move(arg));
  }
  for (auto& s : m.slots) m.ptrs.push_back(s.bytes);
  return true;
}

bool parse_dims(PyObject* obj, std::int64_t dims[3], std::int64_t& total) {
  if (!PyTuple_Check(obj) || PyTuple_GET_SIZE(obj) != 3) {
    PyErr_SetString(PyExc_TypeError, "dims must be a tuple of 3 integers");
    return false;
  }
  total = 1;
  for (Py_ssize_t i = 0; i < 3; ++i) {
    long long d = PyLong_AsLongLong(PyTuple_GET_ITEM(obj, i));
    if (d == -1 && PyErr_Occurred()) return false;
    if (d < 0) {
      PyErr_SetString(PyExc_ValueError, "launch dimensions must be >= 0");
      return false;
    }
    dims[i] = d;
    if (__builtin_mul_overflow(total, d, &total)) {
      PyErr_SetString(PyExc_ValueError, "launch dimensions overflow 64 bits");
      return false;
    }
  }
  return true;
}

}  // namespace pyhost::kernels
