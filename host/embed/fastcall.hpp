// METH_FASTCALL functions have a signature PyMethodDef does not declare: one cast, in one place.
#pragma once

#include <Python.h>

namespace pyhost {

template <typename F>
PyCFunction fastcall(F* function) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(function));
}

}  // namespace pyhost
