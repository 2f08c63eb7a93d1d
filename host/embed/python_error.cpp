#include "pyhost/python_error.hpp"

#include <Python.h>

#include "pyhost/py_ref.hpp"

namespace pyhost {
namespace {

std::string to_utf8(PyObject* obj) {
  if (obj == nullptr) return {};
  PyRef text = PyRef::steal(PyObject_Str(obj));
  if (!text) {
    PyErr_Clear();
    return "<unprintable>";
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.get(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    return "<unprintable>";
  }
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

std::string fetch_python_error(const std::string& context) {
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyRef type_ref = PyRef::steal(type), value_ref = PyRef::steal(value),
        tb_ref = PyRef::steal(traceback);
  if (!type_ref) return context + ": unknown error";
  std::string name = reinterpret_cast<PyTypeObject*>(type_ref.get())->tp_name;
  std::string message = to_utf8(value_ref.get());
  return context + ": " + name + (message.empty() ? "" : ": " + message);
}

void throw_python_error(const std::string& context) {
  throw PythonError(fetch_python_error(context));
}

}  // namespace pyhost
