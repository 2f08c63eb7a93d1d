/* Reading an interpreter's GIL state from a thread that does not hold it, as py-spy's --gil
   does. The layout of the GIL is CPython-internal (pycore_gil.h): this is compiled as C with
   Py_BUILD_CORE against the headers of the one CPython pyhost is built with, and says "not
   supported" for any other version. */
#ifndef PYHOST_GIL_STATE_H
#define PYHOST_GIL_STATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ts PyThreadState;

/* 1 when this build can read GIL states (CPython 3.13 with a GIL, and the running libpython is
   the one built against); 0 otherwise. */
int pyhost_gil_state_supported(void);

/* 1 on a free-threaded CPython (built with Py_GIL_DISABLED): there is no GIL to read. */
int pyhost_gil_free_threaded(void);

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
