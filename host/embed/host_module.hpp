// `_pyhost`: the built-in module through which the runtime package talks to the host.
#pragma once

#include <Python.h>

namespace pyhost {
class OutputMux;

// Where `_pyhost.write` sends task output for the run in progress (nullptr: straight to fd 1/2).
void set_output_sink(OutputMux* mux);
}  // namespace pyhost

extern "C" PyObject* PyInit__pyhost();
