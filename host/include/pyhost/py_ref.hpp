// RAII over CPython object references. Elsewhere Py_DECREF is paired by hand only in the type
// slots of host/kernels (tp_dealloc and tp_new must drop exactly the references CPython hands them).
#pragma once

#include <Python.h>

#include <utility>

namespace pyhost {

// Owns one strong reference (or none). Must be destroyed while the owning interpreter's GIL is
// held by the current thread, like any PyObject*.
class PyRef {
 public:
  PyRef() = default;
  static PyRef steal(PyObject* obj) { return PyRef(obj); }
  static PyRef borrow(PyObject* obj) {
    Py_XINCREF(obj);
    return PyRef(obj);
  }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  PyRef(PyRef&& other) noexcept : obj_(std::exchange(other.obj_, nullptr)) {}
  PyRef& operator=(PyRef&& other) noexcept {
    if (this != &other) reset(std::exchange(other.obj_, nullptr));
    return *this;
  }
  ~PyRef() { Py_XDECREF(obj_); }

  PyObject* get() const { return obj_; }
  PyObject* release() { return std::exchange(obj_, nullptr); }
  explicit operator bool() const { return obj_ != nullptr; }
  void reset(PyObject* obj = nullptr) { Py_XDECREF(std::exchange(obj_, obj)); }

 private:
  explicit PyRef(PyObject* obj) : obj_(obj) {}
  PyObject* obj_ = nullptr;
};

}  // namespace pyhost
