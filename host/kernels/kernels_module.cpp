// `_pyhost_kernels`: the Python face of the kernel engine. Thin on purpose: marshal.cpp turns
// arguments into slots, kernel_objects.cpp holds the CpuKernel/CudaKernel types (compiled through
// kernel_builder.cpp), device_buffer.cpp the GPU arrays; this file has the module's functions.
//
// Multi-phase init with per-module state only (no static PyObject*), so the module can be
// imported by every interpreter, own-GIL sub-interpreters included. Process-wide state (loaded
// images, the thread pool, the CUDA driver) is plain C++ behind mutexes.
#include "kernels/kernels_module.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cpu_compiler.hpp"
#include "kernels/cuda_driver.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/kernel_builder.hpp"
#include "kernels/kernel_cache.hpp"
#include "kernels/kernel_objects.hpp"
#include "kernels/module_state.hpp"
#include "kernels/nvrtc.hpp"
#include "kernels/thread_pool.hpp"
#include "pyhost/py_ref.hpp"

#ifndef PYHOST_KERNELS_VERSION
#define PYHOST_KERNELS_VERSION "0"
#endif

namespace pyhost::kernels {
namespace {

PyObject* status_tuple(bool ok, const std::string& text) {
  return Py_BuildValue("(Os)", ok ? Py_True : Py_False, text.c_str());
}

PyObject* cpu_status(PyObject*, PyObject*) {
  const CompilerInfo* cc = nullptr;
  Py_BEGIN_ALLOW_THREADS cc = &cpu_compiler();
  Py_END_ALLOW_THREADS return status_tuple(cc->found, cc->found ? cc->version : cc->problem);
}

PyObject* cuda_status(PyObject*, PyObject*) {
  const CudaDriver* d = nullptr;
  Py_BEGIN_ALLOW_THREADS d = &CudaDriver::get();
  Py_END_ALLOW_THREADS
      // NVRTC is loaded only where there is a GPU to compile for.
      std::string nvrtc;
  bool nvrtc_ok = false;
  if (d->available()) {
    Py_BEGIN_ALLOW_THREADS nvrtc_ok = nvrtc_available(&nvrtc);
    Py_END_ALLOW_THREADS
  }
  if (d->available() && !nvrtc_ok) {
    return status_tuple(false, "a GPU is present but " + nvrtc);
  }
  return status_tuple(d->available(), d->status());
}

// nvrtc_status() -> (ok, "NVRTC 13.0 (<library>)" or why it cannot be loaded); loads NVRTC.
PyObject* nvrtc_status(PyObject*, PyObject*) {
  std::string text;
  bool ok = false;
  Py_BEGIN_ALLOW_THREADS ok = nvrtc_available(&text);
  Py_END_ALLOW_THREADS return status_tuple(ok, text);
}

PyObject* py_nvrtc_version(PyObject*, PyObject*) {
  std::string v = nvrtc_version();
  if (v.empty()) Py_RETURN_NONE;
  return PyUnicode_FromString(v.c_str());
}

PyObject* py_nvrtc_supported_archs(PyObject*, PyObject*) {
  std::vector<int> archs = nvrtc_supported_archs();
  PyRef list = PyRef::steal(PyList_New(0));
  if (!list) return nullptr;
  for (int a : archs) {
    PyRef v = PyRef::steal(PyLong_FromLong(a));
    if (!v || PyList_Append(list.get(), v.get()) < 0) return nullptr;
  }
  return list.release();
}

// nvrtc_compile(source, arch="compute_75", name="kernel.cu") -> bytes (PTX or CUBIN)
PyObject* py_nvrtc_compile(PyObject*, PyObject* args, PyObject* kwargs) {
  const char* source = nullptr;
  const char* arch = "compute_75";
  const char* name = "kernel.cu";
  static const char* kwlist[] = {"source", "arch", "name", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|ss", const_cast<char**>(kwlist), &source, &arch,
                                   &name)) {
    return nullptr;
  }
  std::string src = source, a = arch, n = name, error;
  NvrtcResult result;
  Py_BEGIN_ALLOW_THREADS try {
    result = nvrtc_compile(src, n, a, nvrtc_default_options());
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  return PyBytes_FromStringAndSize(result.binary.data(),
                                   static_cast<Py_ssize_t>(result.binary.size()));
}

PyObject* py_cache_dir(PyObject*, PyObject*) {
  KernelCache cache(KernelCache::default_dir());
  if (!cache.usable()) return Py_BuildValue("(Os)", Py_None, cache.problem().c_str());
  return Py_BuildValue("(ss)", cache.dir().c_str(), "");
}

PyObject* py_cache_list(PyObject*, PyObject*) {
  KernelCache cache(KernelCache::default_dir());
  PyRef list = PyRef::steal(PyList_New(0));
  if (!list) return nullptr;
  if (!cache.usable()) return list.release();
  for (const auto& e : cache.list()) {
    PyRef d = PyRef::steal(Py_BuildValue(
        "{s:s,s:s,s:s,s:s,s:K,s:L,s:s}", "key", e.key.c_str(), "kind", e.kind.c_str(), "name",
        e.name.c_str(), "arch", e.arch.c_str(), "size", static_cast<unsigned long long>(e.size),
        "created", static_cast<long long>(e.created), "path", e.payload.c_str()));
    if (!d || PyList_Append(list.get(), d.get()) < 0) return nullptr;
  }
  return list.release();
}

PyObject* py_cache_clear(PyObject*, PyObject*) {
  KernelCache cache(KernelCache::default_dir());
  if (!cache.usable()) return PyLong_FromLong(0);
  return PyLong_FromSize_t(cache.clear());
}

PyObject* py_set_cpu_threads(PyObject*, PyObject* arg) {
  long n = PyLong_AsLong(arg);
  if (n == -1 && PyErr_Occurred()) return nullptr;
  if (n < 0 || n > 4096) {
    PyErr_SetString(PyExc_ValueError, "threads must be 0 (default) to 4096");
    return nullptr;
  }
  ThreadPool::instance().set_threads(static_cast<unsigned>(n));
  Py_RETURN_NONE;
}

PyObject* py_cpu_threads(PyObject*, PyObject*) {
  return PyLong_FromUnsignedLong(ThreadPool::instance().threads());
}

PyObject* py_stats(PyObject*, PyObject*) {
  const BuildStats s = KernelBuilder::stats();
  return Py_BuildValue("{s:l,s:l,s:l,s:l}", "compiles", s.compiles, "disk_hits", s.disk_hits,
                       "memory_hits", s.memory_hits, "rejected_entries", s.rejected_entries);
}

PyObject* py_forget_loaded(PyObject*, PyObject*) {
  // Tests: make the next compile go to the disk cache instead of this process's memory.
  KernelBuilder::forget_loaded();
  Py_RETURN_NONE;
}

// Tests: how many distinct threads ran the chunks of a launch of `n` items sleeping 2 ms each.
PyObject* py_pool_probe(PyObject*, PyObject* arg) {
  long n = PyLong_AsLong(arg);
  if (n == -1 && PyErr_Occurred()) return nullptr;
  std::mutex mu;
  std::vector<std::thread::id> ids;
  std::function<void(std::int64_t, std::int64_t)> fn = [&](std::int64_t b, std::int64_t e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (std::find(ids.begin(), ids.end(), std::this_thread::get_id()) == ids.end()) {
        ids.push_back(std::this_thread::get_id());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * (e - b)));
  };
  Py_BEGIN_ALLOW_THREADS ThreadPool::instance().parallel_for(n, fn);
  Py_END_ALLOW_THREADS return PyLong_FromSize_t(ids.size());
}

PyMethodDef module_methods[] = {
    {"compile_cpu", &compile_cpu, METH_VARARGS,
     "compile_cpu(name, cname, source, params) -> CpuKernel"},
    {"compile_cuda", &compile_cuda, METH_VARARGS,
     "compile_cuda(name, cname, source, params) -> CudaKernel"},
    {"cpu_status", &cpu_status, METH_NOARGS, "(available, compiler or reason)"},
    {"cuda_status", &cuda_status, METH_NOARGS, "(available, device or reason)"},
    {"nvrtc_status", &nvrtc_status, METH_NOARGS, "(loadable, NVRTC version and library or reason)"},
    {"nvrtc_version", &py_nvrtc_version, METH_NOARGS, "NVRTC version, or None"},
    {"nvrtc_supported_archs", &py_nvrtc_supported_archs, METH_NOARGS, "[75, 80, ...]"},
    {"nvrtc_compile",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&py_nvrtc_compile)),
     METH_VARARGS | METH_KEYWORDS,
     "nvrtc_compile(source, arch='compute_75', name='kernel.cu') -> PTX or CUBIN bytes"},
    {"cache_dir", &py_cache_dir, METH_NOARGS, "(directory or None, why not)"},
    {"cache_list", &py_cache_list, METH_NOARGS, "entries of the kernel cache"},
    {"cache_clear", &py_cache_clear, METH_NOARGS, "remove every entry; returns how many"},
    {"set_cpu_threads", &py_set_cpu_threads, METH_O, "threads of the CPU fallback (0: default)"},
    {"cpu_threads", &py_cpu_threads, METH_NOARGS, "threads of the CPU fallback"},
    {"stats", &py_stats, METH_NOARGS, "compile and cache counters of this process"},
    {"_forget_loaded", &py_forget_loaded, METH_NOARGS, "tests: drop the in-memory library map"},
    {"_pool_probe", &py_pool_probe, METH_O, "tests: distinct threads that ran a launch"},
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* module) {
  ModuleState* st = state_of(module);
  struct {
    PyType_Spec* spec;
    PyTypeObject** slot;
    const char* name;
  } types[] = {
      {&cpu_kernel_spec, &st->cpu_kernel_type, "CpuKernel"},
      {&cuda_kernel_spec, &st->cuda_kernel_type, "CudaKernel"},
      {&device_buffer_spec, &st->device_buffer_type, "DeviceBuffer"},
  };
  for (auto& t : types) {
    PyObject* type = PyType_FromModuleAndSpec(module, t.spec, nullptr);
    if (!type) return -1;
    *t.slot = reinterpret_cast<PyTypeObject*>(type);  // the state owns this reference
    if (PyModule_AddObjectRef(module, t.name, type) < 0) return -1;
  }
  if (PyModule_AddStringConstant(module, "version", PYHOST_KERNELS_VERSION) < 0) return -1;
  if (PyModule_AddIntConstant(module, "nvrtc_built_in", nvrtc_built_in() ? 1 : 0) < 0) return -1;
  return 0;
}

int module_traverse(PyObject* module, visitproc visit, void* arg) {
  ModuleState* st = state_of(module);
  if (!st) return 0;
  Py_VISIT(st->cpu_kernel_type);
  Py_VISIT(st->cuda_kernel_type);
  Py_VISIT(st->device_buffer_type);
  return 0;
}

int module_clear(PyObject* module) {
  ModuleState* st = state_of(module);
  if (!st) return 0;
  Py_CLEAR(st->cpu_kernel_type);
  Py_CLEAR(st->cuda_kernel_type);
  Py_CLEAR(st->device_buffer_type);
  return 0;
}

void module_free(void* module) {
  module_clear(static_cast<PyObject*>(module));
}

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(&module_exec)},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    // Free-threaded CPython (3.13t): importing it must not turn the GIL back on. Its process-wide
    // state is atomics and mutexes held for map operations only; kernel objects are immutable
    // once made, and arguments are read through buffer exports held for the launch.
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_pyhost_kernels",
    "Native engine of @pyhost.kernel: NVRTC/CUDA driver, CPU fallback, kernel cache.",
    sizeof(ModuleState),
    module_methods,
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

}  // namespace
}  // namespace pyhost::kernels

extern "C" PyObject* PyInit__pyhost_kernels() {
  return PyModuleDef_Init(&pyhost::kernels::module_def);
}
