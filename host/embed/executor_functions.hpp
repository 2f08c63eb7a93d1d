// `_pyhost` functions behind pyhost.Channel and pyhost.Executor: byte channels shared by every
// interpreter of the process, and threads that each run code in a new own-GIL sub-interpreter.
#pragma once

#include <Python.h>

namespace pyhost {

// Entries for the `_pyhost` method table, ended by a {nullptr} sentinel.
extern PyMethodDef channel_methods[];
extern PyMethodDef interpreter_thread_methods[];
extern PyMethodDef mpi_methods[];  // messages to other ranks (--engine mpi)

}  // namespace pyhost
