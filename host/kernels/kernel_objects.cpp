#include "kernels/kernel_objects.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda_driver.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/kernel_builder.hpp"
#include "kernels/kernel_cache.hpp"
#include "kernels/marshal.hpp"
#include "kernels/module_state.hpp"
#include "kernels/shared_library.hpp"
#include "kernels/thread_pool.hpp"
#include "kernels/toolchains.hpp"

namespace pyhost::kernels {
namespace {

// What both kinds of kernel hold: the parameters and the loaded image their code lives in.
struct KernelImpl {
  std::string name;
  std::vector<ParamSpec> params;
  LoadedImage image;
};

// ph_c_<name>(args, begin, end, dims, err): runs flat indices [begin, end).
using CpuEntry = void (*)(void**, std::int64_t, std::int64_t, const std::int64_t*, int*);
// ph_lanes_<name>(): how many indices the entry point runs at once (chunks are multiples of it).
using CpuLanes = int (*)();
// ph_loop_<name>(): which loop runs the indices: "direct", "lanes" or "scalar".
using CpuLoop = const char* (*)();

struct CpuKernelImpl : KernelImpl {
  CpuEntry entry = nullptr;
  std::int64_t grain = 1;
  std::string loop = "scalar";
  WorkEstimate work;  // small launches run on the launching thread alone
};

struct CudaKernelImpl : KernelImpl {
  CUfunction function = nullptr;
  std::string target;  // sm_XY (CUBIN) or compute_XY (PTX)
};

template <typename Impl>
struct KernelObject {
  PyObject_HEAD std::shared_ptr<Impl>* impl;  // placement-constructed
};

template <typename Impl>
std::shared_ptr<Impl> impl_of(PyObject* self) {
  return *reinterpret_cast<KernelObject<Impl>*>(self)->impl;
}

template <typename Impl>
void kernel_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* obj = reinterpret_cast<KernelObject<Impl>*>(self);
  if (obj->impl) {
    obj->impl->~shared_ptr();
    PyMem_Free(obj->impl);
  }
  type->tp_free(self);
  Py_DECREF(type);
}

// Target-specific part of a compile (runs without the GIL): build the image through
// KernelBuilder and find the entry point `cname` in it. Throws std::runtime_error.
void build_cpu(CpuKernelImpl& k, const std::string& source, const std::string& cname,
               std::string* warning) {
  k.image = KernelBuilder(KernelCache::default_dir())
                .build(cpu_toolchain(), k.name, source, load_cpu_image, warning);
  const auto* lib = static_cast<const SharedLibrary*>(k.image.get());
  const std::string symbol = "ph_c_" + cname;
  k.entry = reinterpret_cast<CpuEntry>(lib->symbol(symbol.c_str()));
  if (!k.entry) throw std::runtime_error("the compiled kernel has no symbol " + symbol);
  if (auto lanes = reinterpret_cast<CpuLanes>(lib->symbol(("ph_lanes_" + cname).c_str()))) {
    k.grain = std::max(1, lanes());
  }
  if (auto loop = reinterpret_cast<CpuLoop>(lib->symbol(("ph_loop_" + cname).c_str()))) {
    k.loop = loop();
  }
}

void build_cuda(CudaKernelImpl& k, const std::string& source, const std::string& cname,
                std::string* warning) {
  const Toolchain tc = cuda_toolchain(CudaDriver::get());
  k.target = tc.arch;
  k.image = KernelBuilder(KernelCache::default_dir())
                .build(
                    tc, k.name, source,
                    [&](const std::filesystem::path& p) {
                      return load_cuda_image(p, tc.payload, k.name);
                    },
                    warning);
  k.function = static_cast<const CudaModule*>(k.image.get())->function("ph_k_" + cname);
}

// The one compile path of both targets: parse (name, cname, source, params), build without the
// GIL, report the builder's warning or error, or hand Python an object of `type` owning it.
template <typename Impl>
PyObject* compile_kernel(PyObject* args, PyTypeObject* type,
                         void (*build)(Impl&, const std::string&, const std::string&,
                                       std::string*)) {
  const char* name = nullptr;
  const char* cname = nullptr;
  const char* source = nullptr;
  PyObject* params_obj = nullptr;
  if (!PyArg_ParseTuple(args, "sssO!", &name, &cname, &source, &PyTuple_Type, &params_obj)) {
    return nullptr;
  }
  auto impl = std::make_shared<Impl>();
  impl->name = name;
  if (!parse_params(params_obj, impl->params)) return nullptr;
  const std::string src = source, entry = cname;
  std::string error, warning;
  Py_BEGIN_ALLOW_THREADS try {
    build(*impl, src, entry, &warning);
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!warning.empty() &&
                           PyErr_WarnEx(PyExc_RuntimeWarning, warning.c_str(), 1) < 0) {
    return nullptr;
  }
  if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  auto* obj = PyObject_New(KernelObject<Impl>, type);
  if (!obj) return nullptr;
  obj->impl = static_cast<std::shared_ptr<Impl>*>(PyMem_Malloc(sizeof *obj->impl));
  if (!obj->impl) {
    Py_DECREF(obj);
    return PyErr_NoMemory();
  }
  new (obj->impl) std::shared_ptr<Impl>(std::move(impl));
  return reinterpret_cast<PyObject*>(obj);
}

// ---------------------------------------------------------------------------------------------
// CpuKernel

// CpuKernel.launch(dims: (n0, n1, n2), args: tuple) -> error site (0: none)
PyObject* cpu_kernel_launch(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "launch(dims, args)");
    return nullptr;
  }
  std::shared_ptr<CpuKernelImpl> impl = impl_of<CpuKernelImpl>(self);
  std::int64_t dims[3];
  std::int64_t total = 0;
  if (!parse_dims(args[0], dims, total)) return nullptr;
  Marshaled m;
  if (!marshal(impl->name, impl->params, args[1], m, nullptr)) return nullptr;
  int err = 0;
  CpuEntry entry = impl->entry;
  void** ptrs = m.ptrs.data();
  std::function<void(std::int64_t, std::int64_t)> chunk = [&](std::int64_t b, std::int64_t e) {
    entry(ptrs, b, e, dims, &err);
  };
  Py_BEGIN_ALLOW_THREADS ThreadPool::instance().parallel_for(total, chunk, impl->grain,
                                                             &impl->work);
  Py_END_ALLOW_THREADS return PyLong_FromLong(__atomic_load_n(&err, __ATOMIC_ACQUIRE));
}

PyObject* cpu_kernel_lanes(PyObject* self, void*) {
  return PyLong_FromLongLong(impl_of<CpuKernelImpl>(self)->grain);
}

PyMethodDef cpu_kernel_methods[] = {
    {"launch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&cpu_kernel_launch)),
     METH_FASTCALL, "launch(dims, args) -> error site (0: none)"},
    {nullptr, nullptr, 0, nullptr},
};

PyObject* cpu_kernel_loop(PyObject* self, void*) {
  return PyUnicode_FromString(impl_of<CpuKernelImpl>(self)->loop.c_str());
}

PyGetSetDef cpu_kernel_getset[] = {
    {"lanes", &cpu_kernel_lanes, nullptr, "indices run at once (1: one at a time)", nullptr},
    {"loop", &cpu_kernel_loop, nullptr, "the loop over the indices: direct, lanes or scalar",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot cpu_kernel_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(&kernel_dealloc<CpuKernelImpl>)},
    {Py_tp_methods, cpu_kernel_methods},
    {Py_tp_getset, cpu_kernel_getset},
    {Py_tp_doc, const_cast<char*>("A kernel compiled for the CPU fallback.")},
    {0, nullptr},
};

// ---------------------------------------------------------------------------------------------
// CudaKernel

// CudaKernel.launch(dims, args) -> error site (0: none). Plain buffers are copied in, and the
// ones the kernel writes are copied back; device arrays stay where they are.
PyObject* cuda_kernel_launch(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "launch(dims, args)");
    return nullptr;
  }
  std::shared_ptr<CudaKernelImpl> impl = impl_of<CudaKernelImpl>(self);
  std::int64_t dims[3];
  std::int64_t total = 0;
  if (!parse_dims(args[0], dims, total)) return nullptr;
  ModuleState* st = state_from_type(Py_TYPE(self));
  if (!st) return nullptr;
  Marshaled m;
  if (!marshal(impl->name, impl->params, args[1], m, st->device_buffer_type)) return nullptr;
  int err_site = 0;
  std::string error;
  Py_BEGIN_ALLOW_THREADS try {
    std::vector<std::unique_ptr<DeviceMemory>> staged(m.arrays.size());
    for (std::size_t i = 0; i < m.arrays.size(); ++i) {
      ArrayArg& a = m.arrays[i];
      CUdeviceptr ptr = 0;
      if (a.device) {
        ptr = (*a.device->memory)->ptr();
      } else {
        staged[i] = std::make_unique<DeviceMemory>(a.nbytes);
        staged[i]->upload(a.buffer->view().buf, a.nbytes);
        ptr = staged[i]->ptr();
      }
      std::memcpy(m.slots[a.param].bytes, &ptr, sizeof ptr);
    }
    // One error word per launching thread, kept across launches (no allocation per launch).
    thread_local std::unique_ptr<DeviceMemory> err_word;
    if (!err_word) err_word = std::make_unique<DeviceMemory>(sizeof(int));
    DeviceMemory& err = *err_word;
    err.zero();
    const std::size_t n = impl->params.size();
    std::memcpy(m.slots[n].bytes, &dims[0], 8);
    std::memcpy(m.slots[n + 1].bytes, &dims[1], 8);
    std::memcpy(m.slots[n + 2].bytes, &dims[2], 8);
    CUdeviceptr err_ptr = err.ptr();
    std::memcpy(m.slots[n + 3].bytes, &err_ptr, sizeof err_ptr);
    cuda_launch(impl->function, total, m.ptrs, impl->name);
    for (std::size_t i = 0; i < m.arrays.size(); ++i) {
      ArrayArg& a = m.arrays[i];
      if (staged[i] && a.writable) staged[i]->download(a.buffer->view().buf, a.nbytes);
    }
    err.download(&err_site, sizeof err_site);
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  return PyLong_FromLong(err_site);
}

PyObject* cuda_kernel_target(PyObject* self, void*) {
  return PyUnicode_FromString(impl_of<CudaKernelImpl>(self)->target.c_str());
}

PyMethodDef cuda_kernel_methods[] = {
    {"launch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&cuda_kernel_launch)),
     METH_FASTCALL, "launch(dims, args) -> error site (0: none)"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef cuda_kernel_getset[] = {
    {"target", &cuda_kernel_target, nullptr, "sm_XY (CUBIN) or compute_XY (PTX)", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot cuda_kernel_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(&kernel_dealloc<CudaKernelImpl>)},
    {Py_tp_methods, cuda_kernel_methods},
    {Py_tp_getset, cuda_kernel_getset},
    {Py_tp_doc, const_cast<char*>("A kernel compiled by NVRTC and loaded on the GPU.")},
    {0, nullptr},
};

}  // namespace

PyType_Spec cpu_kernel_spec = {
    "_pyhost_kernels.CpuKernel", sizeof(KernelObject<CpuKernelImpl>), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    cpu_kernel_slots};

PyType_Spec cuda_kernel_spec = {
    "_pyhost_kernels.CudaKernel", sizeof(KernelObject<CudaKernelImpl>), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    cuda_kernel_slots};

PyObject* compile_cpu(PyObject* module, PyObject* args) {
  return compile_kernel<CpuKernelImpl>(args, state_of(module)->cpu_kernel_type, &build_cpu);
}

PyObject* compile_cuda(PyObject* module, PyObject* args) {
  return compile_kernel<CudaKernelImpl>(args, state_of(module)->cuda_kernel_type, &build_cuda);
}

}  // namespace pyhost::kernels
