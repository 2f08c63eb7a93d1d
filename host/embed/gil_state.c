/* See gil_state.h. C, not C++: CPython's internal headers are not C++-clean. */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>

#include "embed/gil_state.h"

#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
#define PYHOST_GIL_READABLE 1
#include "internal/pycore_interp.h"
#else
#define PYHOST_GIL_READABLE 0
#endif

int pyhost_gil_state_supported(void) {
#if PYHOST_GIL_READABLE
  /* The structure read is the one of the headers: the library must be the same minor version. */
  return (Py_Version >> 16) == (PY_VERSION_HEX >> 16);
#else
  return 0;
#endif
}

int pyhost_gil_free_threaded(void) {
#ifdef Py_GIL_DISABLED
  return 1;
#else
  return 0;
#endif
}

const void* pyhost_gil_of(PyThreadState* tstate, size_t* size) {
#if PYHOST_GIL_READABLE
  if (!tstate || !pyhost_gil_state_supported()) return NULL;
  struct _gil_runtime_state* gil = tstate->interp->ceval.gil;
  if (size) *size = sizeof(*gil);
  return gil;
#else
  (void)tstate;
  if (size) *size = 0;
  return NULL;
#endif
}

PyThreadState* pyhost_gil_holder(const void* gil_ptr, unsigned long* switches) {
#if PYHOST_GIL_READABLE
  const struct _gil_runtime_state* gil = (const struct _gil_runtime_state*)gil_ptr;
  if (switches) *switches = __atomic_load_n(&gil->switch_number, __ATOMIC_RELAXED);
  /* last_holder stays set after a release: it holds the GIL only while the GIL is locked. */
  if (__atomic_load_n(&gil->locked, __ATOMIC_ACQUIRE) != 1) return NULL;
  return __atomic_load_n(&gil->last_holder, __ATOMIC_RELAXED);
#else
  (void)gil_ptr;
  if (switches) *switches = 0;
  return NULL;
#endif
}
