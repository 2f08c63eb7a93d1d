// `_pyhost_subinterpreters`: the executor's functions of `_pyhost` (byte channels, threads that
// each run code in an own-GIL sub-interpreter) as an extension module for a plain python, so that
// pyhost.Executor("subinterpreters") made there gets real sub-interpreter workers. The functions
// are the host's own (channel_functions.cpp, interpreter_threads.cpp), linked in statically.
//
// Not named `_pyhost`: a successful `import _pyhost` is how the runtime knows that the pyhost
// program runs it (workers.under_host()), with its output routing, tasks and watchers.
#include <Python.h>

#include "embed/executor_functions.hpp"

namespace pyhost {
namespace {

int add_executor_functions(PyObject* module) {
  if (PyModule_AddFunctions(module, channel_methods) != 0) return -1;
  return PyModule_AddFunctions(module, interpreter_thread_methods);
}

PyModuleDef_Slot subinterpreters_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(&add_executor_functions)},
#if PY_VERSION_HEX >= 0x030C0000
    // No per-module state: its workers' sub-interpreters import it too (they reach the channels
    // through it), each with its own GIL.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    // Its process-wide state (the channel registry, the table of interpreter threads) is guarded
    // by mutexes taken detached (attached_lock.hpp); it holds no Python objects between calls.
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef subinterpreters_module = {
    PyModuleDef_HEAD_INIT,
    "_pyhost_subinterpreters",
    "Byte channels and own-GIL sub-interpreter threads of pyhost.Executor, for plain python.",
    0,
    nullptr,
    subinterpreters_slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace pyhost

PyMODINIT_FUNC PyInit__pyhost_subinterpreters() {
  return PyModuleDef_Init(&pyhost::subinterpreters_module);
}
