/* Reading an interpreter's GIL state from a thread that does not hold it, as py-spy's --gil
   does. The layout of the GIL is CPython-internal (pycore_gil.h): this is compiled as C with
   Py_BUILD_CORE against the headers of the one CPython pyhost is built with. Each minor version
   whose layout has been verified (3.12 to 3.15) is checked field by field at build time
   (gil_state.c); any other version builds, but says so loudly: pyhost info prints "gil sampler:
   unsupported CPython X.Y layout", and the embedding unit tests fail. */
#ifndef PYHOST_GIL_STATE_H
#define PYHOST_GIL_STATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ts PyThreadState;

/* Why the GIL can or cannot be read in this build and process. */
typedef enum {
  PYHOST_GIL_READABLE = 0,     /* a verified layout, and the running libpython agrees with it */
  PYHOST_GIL_FREE_THREADED,    /* built with Py_GIL_DISABLED: there is no GIL */
  PYHOST_GIL_UNKNOWN_LAYOUT,   /* headers of a CPython minor version not verified by pyhost */
  PYHOST_GIL_LIBRARY_MISMATCH, /* the running libpython is another minor version than the headers */
  PYHOST_GIL_OFFSETS_MISMATCH  /* its _PyRuntime.debug_offsets disagree with the headers (3.13+) */
} pyhost_gil_status;

pyhost_gil_status pyhost_gil_state_status(void);

/* 1 when the status is PYHOST_GIL_READABLE. */
int pyhost_gil_state_supported(void);

/* 1 on a free-threaded CPython (built with Py_GIL_DISABLED): there is no GIL to read. */
int pyhost_gil_free_threaded(void);

/* The minor versions whose layout this source verifies, e.g. "3.12, 3.13, 3.14, 3.15". */
const char* pyhost_gil_verified_versions(void);

/* The major.minor version (0xMMmm) of the headers compiled against, and of the running library. */
unsigned pyhost_gil_header_version(void);
unsigned pyhost_gil_library_version(void);

/* The GIL of `tstate`'s interpreter and the size of its structure (a thread blocked in a futex
   on an address inside it waits for that GIL); NULL when not supported. Call with the GIL. */
const void* pyhost_gil_of(PyThreadState* tstate, size_t* size);

/* The thread state holding `gil` (NULL if none) and the GIL's switch count so far. Lock-free,
   racy by nature: a sample. */
PyThreadState* pyhost_gil_holder(const void* gil, unsigned long* switches);

#ifdef __cplusplus
}
#endif

#endif
