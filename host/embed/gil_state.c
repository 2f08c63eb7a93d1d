/* See gil_state.h. C, not C++: CPython's internal headers are not C++-clean. */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>

#include "embed/gil_state.h"

/* The versions whose struct _gil_runtime_state (pycore_gil.h) and PyInterpreterState.ceval.gil
   have been read and verified: the fields used (locked, last_holder, switch_number, and the
   interval beside them) are the same in 3.12 to 3.15; 3.12 wraps locked and last_holder in its
   _Py_atomic_int / _Py_atomic_address types, 3.13 on has plain fields read with atomics. A new
   minor version is added here only after checking its pycore_gil.h: until then it builds with
   the GIL unread, and says so (PYHOST_GIL_UNKNOWN_LAYOUT).

   Why not the newer, more public helpers instead:
   - _PyRuntime.debug_offsets (3.13+, for out-of-process debuggers) names the offsets of `locked`
     and `last_holder`, but not of `switch_number`, nor of the shared GIL that a sub-interpreter
     without its own GIL uses (only the interpreter's own `_gil`). It is used below as a
     cross-check that the running libpython has the layout of the headers compiled against.
   - PyThreadState.holds_gil (its own int from 3.14; a bit field the owner writes in 3.13) and
     3.15's PyThreadState.gil_requested say per thread what the GIL structure says for all at
     once, without a switch count, and reading them means dereferencing a worker's thread state
     from the sampler thread: the sampler only ever compares thread-state pointers (a worker's
     state may be deleted while it is still registered), whereas a GIL it reads is known to live
     while a worker on it is registered. Waiters are found from the futex each one is blocked in
     (gil_sampler.cpp), which works the same on every version. */
#if defined(Py_GIL_DISABLED)
#define PYHOST_GIL_LAYOUT_KNOWN 0
#elif PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x03100000
#define PYHOST_GIL_LAYOUT_KNOWN 1
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h" /* _PyRuntime (its debug_offsets: 3.13+) */
#else
#define PYHOST_GIL_LAYOUT_KNOWN 0
#endif

#define PYHOST_GIL_VERIFIED "3.12, 3.13, 3.14, 3.15"

#if PYHOST_GIL_LAYOUT_KNOWN
/* Build-time checks of the layout against the headers compiled with: a field renamed, retyped or
   moved fails the build here rather than making the sampler read garbage. */
#define PYHOST_FIELD(type, field) (((type*)0)->field)
#define PYHOST_HAS_TYPE(expr, type) __builtin_types_compatible_p(__typeof__(expr), type)
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(PyInterpreterState, ceval.gil),
                               struct _gil_runtime_state*),
               "PyInterpreterState.ceval.gil is not a struct _gil_runtime_state*");
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(PyThreadState, interp), PyInterpreterState*),
               "PyThreadState.interp is not a PyInterpreterState*");
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(struct _gil_runtime_state, interval), unsigned long),
               "_gil_runtime_state.interval changed type");
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(struct _gil_runtime_state, switch_number),
                               unsigned long),
               "_gil_runtime_state.switch_number changed type");
#if PY_VERSION_HEX < 0x030D0000 /* 3.12 */
#define PYHOST_GIL_ATOMIC_WRAPPERS 1
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(struct _gil_runtime_state, locked), _Py_atomic_int),
               "3.12: _gil_runtime_state.locked is not a _Py_atomic_int");
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(struct _gil_runtime_state, last_holder),
                               _Py_atomic_address),
               "3.12: _gil_runtime_state.last_holder is not a _Py_atomic_address");
#else /* 3.13, 3.14, 3.15 */
#define PYHOST_GIL_ATOMIC_WRAPPERS 0
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(struct _gil_runtime_state, locked), int),
               "_gil_runtime_state.locked is not an int");
_Static_assert(PYHOST_HAS_TYPE(PYHOST_FIELD(struct _gil_runtime_state, last_holder),
                               PyThreadState*),
               "_gil_runtime_state.last_holder is not a PyThreadState*");
#endif
#if defined(__LP64__)
/* The order and offsets verified for every version listed (64-bit): interval, last_holder,
   locked, switch_number, then the condition variable and mutex. */
_Static_assert(offsetof(struct _gil_runtime_state, interval) == 0, "GIL layout: interval moved");
_Static_assert(offsetof(struct _gil_runtime_state, last_holder) == 8,
               "GIL layout: last_holder moved");
_Static_assert(offsetof(struct _gil_runtime_state, locked) == 16, "GIL layout: locked moved");
_Static_assert(offsetof(struct _gil_runtime_state, switch_number) == 24,
               "GIL layout: switch_number moved");
#endif
#endif /* PYHOST_GIL_LAYOUT_KNOWN */

unsigned pyhost_gil_header_version(void) {
  return (unsigned)(PY_VERSION_HEX >> 16);
}

unsigned pyhost_gil_library_version(void) {
  return (unsigned)(Py_Version >> 16);
}

const char* pyhost_gil_verified_versions(void) {
  return PYHOST_GIL_VERIFIED;
}

static pyhost_gil_status compute_status(void) {
#if defined(Py_GIL_DISABLED)
  return PYHOST_GIL_FREE_THREADED;
#elif !PYHOST_GIL_LAYOUT_KNOWN
  return PYHOST_GIL_UNKNOWN_LAYOUT;
#else
  /* The structure read is the one of the headers: the library must be the same minor version. */
  if (pyhost_gil_library_version() != pyhost_gil_header_version())
    return PYHOST_GIL_LIBRARY_MISMATCH;
#if PY_VERSION_HEX >= 0x030D0000
  /* The running library's own record of its layout (statically initialised: no need for the
     interpreter to run) must agree with the headers. */
  const _Py_DebugOffsets* d = &_PyRuntime.debug_offsets;
  const uint64_t gil = d->interpreter_state.gil_runtime_state;
  if ((d->version >> 16) != (uint64_t)(PY_VERSION_HEX >> 16) || d->free_threaded ||
      d->interpreter_state.ceval_gil != offsetof(PyInterpreterState, ceval.gil) ||
      d->interpreter_state.gil_runtime_state_locked - gil !=
          offsetof(struct _gil_runtime_state, locked) ||
      d->interpreter_state.gil_runtime_state_holder - gil !=
          offsetof(struct _gil_runtime_state, last_holder))
    return PYHOST_GIL_OFFSETS_MISMATCH;
#endif
  return PYHOST_GIL_READABLE;
#endif
}

pyhost_gil_status pyhost_gil_state_status(void) {
  /* Computed once; a race computes the same answer twice. */
  static int cached = -1;
  int status = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (status < 0) {
    status = (int)compute_status();
    __atomic_store_n(&cached, status, __ATOMIC_RELAXED);
  }
  return (pyhost_gil_status)status;
}

int pyhost_gil_state_supported(void) {
  return pyhost_gil_state_status() == PYHOST_GIL_READABLE;
}

int pyhost_gil_free_threaded(void) {
#ifdef Py_GIL_DISABLED
  return 1;
#else
  return 0;
#endif
}

const void* pyhost_gil_of(PyThreadState* tstate, size_t* size) {
#if PYHOST_GIL_LAYOUT_KNOWN
  if (!tstate || !pyhost_gil_state_supported()) {
    if (size) *size = 0;
    return NULL;
  }
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
#if PYHOST_GIL_LAYOUT_KNOWN
  /* last_holder stays set after a release: it holds the GIL only while the GIL is locked. */
  const struct _gil_runtime_state* gil = (const struct _gil_runtime_state*)gil_ptr;
  if (switches) *switches = __atomic_load_n(&gil->switch_number, __ATOMIC_RELAXED);
#if PYHOST_GIL_ATOMIC_WRAPPERS
  /* 3.12's wrappers are read with its own macros (they cast away const). */
  struct _gil_runtime_state* g = (struct _gil_runtime_state*)gil;
  if (_Py_atomic_load_explicit(&g->locked, _Py_memory_order_acquire) != 1) return NULL;
  return (PyThreadState*)_Py_atomic_load_relaxed(&g->last_holder);
#else
  if (__atomic_load_n(&gil->locked, __ATOMIC_ACQUIRE) != 1) return NULL;
  return __atomic_load_n(&gil->last_holder, __ATOMIC_RELAXED);
#endif
#else
  (void)gil_ptr;
  if (switches) *switches = 0;
  return NULL;
#endif
}
