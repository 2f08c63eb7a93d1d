// `_pyhost_kernels`: compiles generated kernels (CPU: system compiler; CUDA: NVRTC), caches them
// on disk, and launches them with the GIL released.
//
// Multi-phase init with per-module state only (no static PyObject*), so the module can be
// imported by every interpreter, own-GIL sub-interpreters included. Process-wide state (loaded
// libraries, the thread pool, the CUDA driver) is plain C++ behind mutexes.
#include "pyhost/kernels.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cuda/cpu_compiler.hpp"
#include "cuda/cuda_driver.hpp"
#include "cuda/kernel_cache.hpp"
#include "cuda/nvrtc.hpp"
#include "cuda/shared_library.hpp"
#include "cuda/thread_pool.hpp"
#include "pyhost/py_ref.hpp"

#ifndef PYHOST_KERNELS_VERSION
#define PYHOST_KERNELS_VERSION "0"
#endif

namespace fs = std::filesystem;

namespace pyhost::kernels {
namespace {

// ---------------------------------------------------------------------------------------------
// Types of parameters

struct DType {
  const char* name;
  char format;       // buffer format named in messages
  const char* also;  // other accepted formats of the same size
  int itemsize;
  bool is_float;
  bool is_signed;
  bool is_bool;
};

constexpr DType kDTypes[] = {
    {"f32", 'f', "", 4, true, true, false},      {"f64", 'd', "", 8, true, true, false},
    {"i32", 'i', "", 4, false, true, false},     {"i64", 'l', "q", 8, false, true, false},
    {"u32", 'I', "", 4, false, false, false},    {"u8", 'B', "", 1, false, false, false},
    {"boolean", '?', "", 1, false, false, true},
};

const DType* find_dtype(const std::string& name) {
  for (const auto& d : kDTypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

struct ParamSpec {
  std::string name;
  const DType* dtype = nullptr;
  int ndim = 0;  // 0: scalar
  bool writable = false;

  std::string type_name() const {
    if (ndim == 0) return dtype->name;
    std::string s = std::string(dtype->name) + "[:";
    for (int i = 1; i < ndim; ++i) s += ", :";
    return s + "]";
  }
};

// Raised inside the engine for errors that become RuntimeError in Python.
struct EngineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string type_name_of(PyObject* obj) {
#if PY_VERSION_HEX >= 0x030B0000
  PyRef name = PyRef::steal(PyType_GetName(Py_TYPE(obj)));
  if (name) {
    const char* s = PyUnicode_AsUTF8(name.get());
    if (s) return s;
  }
  PyErr_Clear();
#endif
  return Py_TYPE(obj)->tp_name;
}

std::string str_of(PyObject* obj) {
  PyRef s = PyRef::steal(PyObject_Str(obj));
  const char* c = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
  if (!c) {
    PyErr_Clear();
    return "?";
  }
  return c;
}

bool parse_params(PyObject* tuple, std::vector<ParamSpec>& out) {
  if (!PyTuple_Check(tuple)) {
    PyErr_SetString(PyExc_TypeError, "params must be a tuple of (name, dtype, ndim, writable)");
    return false;
  }
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); ++i) {
    PyObject* item = PyTuple_GET_ITEM(tuple, i);
    const char* name = nullptr;
    const char* dtype = nullptr;
    int ndim = 0, writable = 0;
    if (!PyArg_ParseTuple(item, "ssip", &name, &dtype, &ndim, &writable)) return false;
    ParamSpec spec;
    spec.name = name;
    spec.dtype = find_dtype(dtype);
    spec.ndim = ndim;
    spec.writable = writable != 0;
    if (!spec.dtype || ndim < 0 || ndim > 3) {
      PyErr_Format(PyExc_ValueError, "bad parameter spec for '%s'", name);
      return false;
    }
    out.push_back(std::move(spec));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Arguments

// A Py_buffer held for the duration of a launch.
class BufferView {
 public:
  BufferView() = default;
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  ~BufferView() {
    if (held_) PyBuffer_Release(&view_);
  }
  bool acquire(PyObject* obj, int flags) {
    held_ = PyObject_GetBuffer(obj, &view_, flags) == 0;
    return held_;
  }
  const Py_buffer& view() const { return view_; }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

struct DeviceBufferObject;

// One argument slot: a scalar or {data pointer, shape[ndim]} as the generated code reads it.
struct Slot {
  alignas(8) unsigned char bytes[32];
};

struct ArrayArg {
  std::size_t param = 0;
  std::unique_ptr<BufferView> buffer;    // host buffer (or null for a device buffer)
  DeviceBufferObject* device = nullptr;  // borrowed for the launch (args tuple holds it)
  std::size_t nbytes = 0;
  bool writable = false;
};

struct Marshaled {
  std::vector<Slot> slots;
  std::vector<void*> ptrs;
  std::vector<ArrayArg> arrays;
};

bool launch_error(const std::string& kernel, const ParamSpec& p, const std::string& what) {
  std::string msg = "kernel '" + kernel + "': argument '" + p.name + "' " + what;
  PyErr_SetString(PyExc_ValueError, msg.c_str());
  return false;
}

bool format_ok(const char* format, Py_ssize_t itemsize, const DType& d) {
  std::string f = format ? format : "B";
  if (!f.empty() && (f[0] == '@' || f[0] == '=' || f[0] == '<')) f.erase(0, 1);
  if (f.size() != 1 || itemsize != d.itemsize) return false;
  return f[0] == d.format || std::strchr(d.also, f[0]) != nullptr;
}

bool put_scalar(const std::string& kernel, const ParamSpec& p, PyObject* obj, Slot& slot) {
  const DType& d = *p.dtype;
  std::memset(slot.bytes, 0, sizeof slot.bytes);
  if (d.is_float) {
    PyNumberMethods* nb = Py_TYPE(obj)->tp_as_number;
    bool numeric =
        PyFloat_Check(obj) || PyLong_Check(obj) || (nb && (nb->nb_float || nb->nb_index));
    if (!numeric) {
      return launch_error(kernel, p,
                          "must be a number (" + p.type_name() + "), got " + type_name_of(obj));
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) return false;
    if (d.itemsize == 4) {
      float f = static_cast<float>(v);
      std::memcpy(slot.bytes, &f, sizeof f);
    } else {
      std::memcpy(slot.bytes, &v, sizeof v);
    }
    return true;
  }
  PyRef index = PyRef::steal(PyNumber_Index(obj));
  if (!index) {
    PyErr_Clear();
    return launch_error(kernel, p,
                        "must be an integer (" + p.type_name() + "), got " + type_name_of(obj));
  }
  if (d.is_bool) {
    int truth = PyObject_IsTrue(index.get());
    if (truth < 0) return false;
    slot.bytes[0] = static_cast<unsigned char>(truth);
    return true;
  }
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(index.get(), &overflow);
  if (v == -1 && PyErr_Occurred()) return false;
  long long lo = 0, hi = 0;
  switch (d.itemsize) {
    case 1:
      lo = 0, hi = 255;
      break;
    case 4:
      lo = d.is_signed ? -2147483648LL : 0, hi = d.is_signed ? 2147483647LL : 4294967295LL;
      break;
    default:
      lo = LLONG_MIN, hi = LLONG_MAX;
      break;
  }
  if (overflow || v < lo || v > hi) {
    return launch_error(kernel, p,
                        "= " + str_of(index.get()) + " does not fit in " + p.type_name());
  }
  if (d.itemsize == 1) {
    slot.bytes[0] = static_cast<unsigned char>(v);
  } else if (d.itemsize == 4) {
    auto x = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    std::memcpy(slot.bytes, &x, sizeof x);
  } else {
    std::memcpy(slot.bytes, &v, sizeof v);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Module state and object types

struct ModuleState {
  PyTypeObject* cpu_kernel_type = nullptr;
  PyTypeObject* cuda_kernel_type = nullptr;
  PyTypeObject* device_buffer_type = nullptr;
};

ModuleState* state_of(PyObject* module) {
  return static_cast<ModuleState*>(PyModule_GetState(module));
}

// Keeps the module (and so its state and types) alive from objects it made.
ModuleState* state_from_type(PyTypeObject* type) {
  PyObject* module = PyType_GetModule(type);
  return module ? state_of(module) : nullptr;
}

struct DeviceBufferObject {
  PyObject_HEAD std::shared_ptr<DeviceMemory>* memory;  // placement-constructed
  const DType* dtype;
  std::vector<Py_ssize_t>* shape;
};

bool marshal(const std::string& kernel, const std::vector<ParamSpec>& params, PyObject* args,
             Marshaled& m, PyTypeObject* device_buffer_type) {
  if (!PyTuple_Check(args)) {
    PyErr_SetString(PyExc_TypeError, "args must be a tuple");
    return false;
  }
  if (static_cast<std::size_t>(PyTuple_GET_SIZE(args)) != params.size()) {
    PyErr_Format(PyExc_TypeError, "kernel '%s' takes %zu argument(s), got %zd", kernel.c_str(),
                 params.size(), PyTuple_GET_SIZE(args));
    return false;
  }
  m.slots.resize(params.size() + 4);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ParamSpec& p = params[i];
    PyObject* obj = PyTuple_GET_ITEM(args, static_cast<Py_ssize_t>(i));
    Slot& slot = m.slots[i];
    if (p.ndim == 0) {
      if (!put_scalar(kernel, p, obj, slot)) return false;
      continue;
    }
    std::memset(slot.bytes, 0, sizeof slot.bytes);
    std::int64_t shape[3] = {0, 0, 0};
    ArrayArg arg;
    arg.param = i;
    arg.writable = p.writable;
    void* data = nullptr;
    if (device_buffer_type && PyObject_TypeCheck(obj, device_buffer_type)) {
      auto* dev = reinterpret_cast<DeviceBufferObject*>(obj);
      if (dev->dtype != p.dtype || static_cast<int>(dev->shape->size()) != p.ndim) {
        return launch_error(kernel, p, "must be a device array of " + p.type_name());
      }
      for (int k = 0; k < p.ndim; ++k) shape[k] = (*dev->shape)[static_cast<std::size_t>(k)];
      arg.device = dev;
      arg.nbytes = (*dev->memory)->size();
    } else {
      auto buf = std::make_unique<BufferView>();
      if (!buf->acquire(obj, PyBUF_RECORDS_RO)) {
        PyErr_Clear();
        return launch_error(kernel, p,
                            "must be a buffer of " + p.type_name() +
                                " (array.array, memoryview, bytearray or numpy array), got " +
                                type_name_of(obj));
      }
      const Py_buffer& v = buf->view();
      if (!format_ok(v.format, v.itemsize, *p.dtype)) {
        return launch_error(kernel, p,
                            std::string("must hold ") + p.dtype->name +
                                " elements (buffer format '" + p.dtype->format +
                                "'), got format '" + (v.format ? v.format : "B") + "'");
      }
      if (v.ndim != p.ndim) {
        return launch_error(
            kernel, p,
            "must have " + std::to_string(p.ndim) + " dimension(s), got " + std::to_string(v.ndim));
      }
      if (!PyBuffer_IsContiguous(&v, 'C')) return launch_error(kernel, p, "must be C-contiguous");
      if (p.writable && v.readonly) {
        return launch_error(kernel, p, "is read-only but the kernel writes to it");
      }
      for (int k = 0; k < p.ndim; ++k) shape[k] = v.shape[k];
      data = v.buf;
      arg.nbytes = static_cast<std::size_t>(v.len);
      arg.buffer = std::move(buf);
    }
    std::memcpy(slot.bytes, &data, sizeof data);
    std::memcpy(slot.bytes + 8, shape, sizeof(std::int64_t) * static_cast<std::size_t>(p.ndim));
    m.arrays.push_back(std::move(arg));
  }
  for (auto& s : m.slots) m.ptrs.push_back(s.bytes);
  return true;
}

bool parse_dims(PyObject* obj, std::int64_t dims[3], std::int64_t& total) {
  if (!PyTuple_Check(obj) || PyTuple_GET_SIZE(obj) != 3) {
    PyErr_SetString(PyExc_TypeError, "dims must be a tuple of 3 integers");
    return false;
  }
  total = 1;
  for (Py_ssize_t i = 0; i < 3; ++i) {
    long long d = PyLong_AsLongLong(PyTuple_GET_ITEM(obj, i));
    if (d == -1 && PyErr_Occurred()) return false;
    if (d < 0) {
      PyErr_SetString(PyExc_ValueError, "launch dimensions must be >= 0");
      return false;
    }
    dims[i] = d;
    if (__builtin_mul_overflow(total, d, &total)) {
      PyErr_SetString(PyExc_ValueError, "launch dimensions overflow 64 bits");
      return false;
    }
  }
  return true;
}

// Statistics for tests and `pyhost kernels`.
std::atomic<long> g_compiles{0};
std::atomic<long> g_disk_hits{0};
std::atomic<long> g_memory_hits{0};
std::atomic<long> g_rejected_entries{0};

std::string g_last_cache_warning;  // guarded by g_libs_mu
std::mutex g_libs_mu;

// ---------------------------------------------------------------------------------------------
// CPU kernels

using CpuEntry = void (*)(void**, std::int64_t, std::int64_t, const std::int64_t*, int*);

// Loaded CPU kernel libraries of this process, shared by every interpreter.
std::unordered_map<std::string, std::weak_ptr<SharedLibrary>>& cpu_libraries() {
  static auto* libs = new std::unordered_map<std::string, std::weak_ptr<SharedLibrary>>();
  return *libs;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pyhost-kernel-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw EngineError("cannot create a temporary directory");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_text(const fs::path& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw EngineError("cannot write " + path.string());
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw EngineError("cannot write " + path.string());
}

// Builds (or finds) the shared object of `source`; runs without the GIL.
std::shared_ptr<SharedLibrary> cpu_library(const std::string& name, const std::string& source,
                                           std::string& warning) {
  const CompilerInfo& cc = cpu_compiler();
  if (!cc.found) throw EngineError(cc.problem);
  std::string flags;
  for (const auto& f : cpu_compile_flags()) flags += f + " ";
  const std::string arch = host_arch();
  const std::string key =
      make_key({"cpu", PYHOST_KERNELS_VERSION, cc.path, cc.version, flags, arch, source});
  {
    std::lock_guard<std::mutex> lock(g_libs_mu);
    auto it = cpu_libraries().find(key);
    if (it != cpu_libraries().end()) {
      if (auto lib = it->second.lock()) {
        ++g_memory_hits;
        return lib;
      }
    }
  }
  KernelCache cache(KernelCache::default_dir());
  std::shared_ptr<SharedLibrary> lib;
  if (cache.usable()) {
    std::string why;
    if (auto path = cache.lookup(key, "so", &why)) {
      lib = std::make_shared<SharedLibrary>(path->string());
      ++g_disk_hits;
    } else if (!why.empty()) {
      ++g_rejected_entries;
      warning = "pyhost: ignored a kernel cache entry: " + why;
    }
    if (!lib) {
      fs::path src = cache.temp_path(".cpp");
      fs::path out = cache.temp_path(".so");
      struct Cleanup {
        fs::path a, b;
        ~Cleanup() {
          std::error_code ec;
          fs::remove(a, ec);
          fs::remove(b, ec);
        }
      } cleanup{src, out};
      write_text(src, source);
      compile_shared_object(src, out);  // throws with the compiler's messages; nothing cached
      ++g_compiles;
      fs::path final_path = cache.adopt(out, key, "so", name, arch);
      lib = std::make_shared<SharedLibrary>(final_path.string());
    }
  } else {
    TempDir tmp;
    fs::path src = tmp.path / "kernel.cpp", out = tmp.path / "kernel.so";
    write_text(src, source);
    compile_shared_object(src, out);
    ++g_compiles;
    lib = std::make_shared<SharedLibrary>(out.string());  // stays mapped after the files go
  }
  std::lock_guard<std::mutex> lock(g_libs_mu);
  cpu_libraries()[key] = lib;
  return lib;
}

struct CpuKernelImpl {
  std::string name;
  std::vector<ParamSpec> params;
  std::shared_ptr<SharedLibrary> library;
  CpuEntry entry = nullptr;
};

struct CpuKernelObject {
  PyObject_HEAD std::shared_ptr<CpuKernelImpl>* impl;  // placement-constructed
};

void cpu_kernel_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* obj = reinterpret_cast<CpuKernelObject*>(self);
  if (obj->impl) {
    obj->impl->~shared_ptr();
    PyMem_Free(obj->impl);
  }
  type->tp_free(self);
  Py_DECREF(type);
}

// CpuKernel.launch(dims: (n0, n1, n2), args: tuple) -> error site (0: none)
PyObject* cpu_kernel_launch(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "launch(dims, args)");
    return nullptr;
  }
  std::shared_ptr<CpuKernelImpl> impl = *reinterpret_cast<CpuKernelObject*>(self)->impl;
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
  Py_BEGIN_ALLOW_THREADS ThreadPool::instance().parallel_for(total, chunk);
  Py_END_ALLOW_THREADS return PyLong_FromLong(__atomic_load_n(&err, __ATOMIC_ACQUIRE));
}

PyMethodDef cpu_kernel_methods[] = {
    {"launch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&cpu_kernel_launch)),
     METH_FASTCALL, "launch(dims, args) -> error site (0: none)"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot cpu_kernel_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(&cpu_kernel_dealloc)},
    {Py_tp_methods, cpu_kernel_methods},
    {Py_tp_doc, const_cast<char*>("A kernel compiled for the CPU fallback.")},
    {0, nullptr},
};

PyType_Spec cpu_kernel_spec = {
    "_pyhost_kernels.CpuKernel", sizeof(CpuKernelObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    cpu_kernel_slots};

// compile_cpu(name, cname, source, params) -> CpuKernel
// The end of compile_cpu/compile_cuda: report the compiler's warning or error, or hand the
// compiled kernel to Python as an object of `type` owning `impl`.
template <typename Object, typename Impl>
PyObject* finish_compile(PyTypeObject* type, std::shared_ptr<Impl> impl, const std::string& error,
                         const std::string& warning) {
  if (!warning.empty() && PyErr_WarnEx(PyExc_RuntimeWarning, warning.c_str(), 1) < 0) {
    return nullptr;
  }
  if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  auto* obj = PyObject_New(Object, type);
  if (!obj) return nullptr;
  obj->impl = static_cast<std::shared_ptr<Impl>*>(PyMem_Malloc(sizeof *obj->impl));
  if (!obj->impl) {
    Py_DECREF(obj);
    return PyErr_NoMemory();
  }
  new (obj->impl) std::shared_ptr<Impl>(std::move(impl));
  return reinterpret_cast<PyObject*>(obj);
}

PyObject* compile_cpu(PyObject* module, PyObject* args) {
  const char* name = nullptr;
  const char* cname = nullptr;
  const char* source = nullptr;
  PyObject* params_obj = nullptr;
  if (!PyArg_ParseTuple(args, "sssO!", &name, &cname, &source, &PyTuple_Type, &params_obj)) {
    return nullptr;
  }
  auto impl = std::make_shared<CpuKernelImpl>();
  impl->name = name;
  if (!parse_params(params_obj, impl->params)) return nullptr;
  std::string src = source, kname = name, symbol = std::string("ph_c_") + cname;
  std::string error, warning;
  Py_BEGIN_ALLOW_THREADS try {
    impl->library = cpu_library(kname, src, warning);
    impl->entry = reinterpret_cast<CpuEntry>(impl->library->symbol(symbol.c_str()));
    if (!impl->entry) error = "the compiled kernel has no symbol " + symbol;
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS return finish_compile<CpuKernelObject>(state_of(module)->cpu_kernel_type,
                                                              std::move(impl), error, warning);
}

// ---------------------------------------------------------------------------------------------
// CUDA kernels

struct CudaKernelImpl {
  std::string name;
  std::vector<ParamSpec> params;
  std::shared_ptr<CudaModule> module;
  CUfunction function = nullptr;
  std::string target;  // sm_XY (CUBIN) or compute_XY (PTX)
};

struct CudaKernelObject {
  PyObject_HEAD std::shared_ptr<CudaKernelImpl>* impl;
};

void cuda_kernel_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* obj = reinterpret_cast<CudaKernelObject*>(self);
  if (obj->impl) {
    obj->impl->~shared_ptr();
    PyMem_Free(obj->impl);
  }
  type->tp_free(self);
  Py_DECREF(type);
}

int nvrtc_version_number() {
  std::string v = nvrtc_version();
  auto dot = v.find('.');
  if (dot == std::string::npos) return 0;
  return std::stoi(v.substr(0, dot)) * 1000 + std::stoi(v.substr(dot + 1)) * 10;
}

// CUBIN for the device's exact architecture when NVRTC knows it; else PTX for the newest
// architecture NVRTC knows, which only a driver at least as new as NVRTC can load.
std::string cuda_target(const CudaDriver& d) {
  std::vector<int> archs = nvrtc_supported_archs();
  if (archs.empty()) throw EngineError("NVRTC reports no supported GPU architecture");
  const int cc = d.compute_capability();
  if (std::find(archs.begin(), archs.end(), cc) != archs.end()) return "sm_" + std::to_string(cc);
  int best = 0;
  for (int a : archs) {
    if (a <= cc) best = std::max(best, a);
  }
  if (best == 0) {
    throw EngineError("the GPU (sm_" + std::to_string(cc) +
                      ") is older than every architecture "
                      "NVRTC " +
                      nvrtc_version() + " supports");
  }
  if (d.driver_version() < nvrtc_version_number()) {
    throw EngineError("NVRTC " + nvrtc_version() + " cannot build CUBIN for sm_" +
                      std::to_string(cc) +
                      ", and PTX needs a driver at least as new as NVRTC "
                      "(driver API " +
                      std::to_string(d.driver_version()) + ")");
  }
  return "compute_" + std::to_string(best);
}

// compile_cuda(name, cname, source, params) -> CudaKernel
PyObject* compile_cuda(PyObject* module, PyObject* args) {
  const char* name = nullptr;
  const char* cname = nullptr;
  const char* source = nullptr;
  PyObject* params_obj = nullptr;
  if (!PyArg_ParseTuple(args, "sssO!", &name, &cname, &source, &PyTuple_Type, &params_obj)) {
    return nullptr;
  }
  auto impl = std::make_shared<CudaKernelImpl>();
  impl->name = name;
  if (!parse_params(params_obj, impl->params)) return nullptr;
  std::string src = source, kname = name, symbol = std::string("ph_k_") + cname;
  std::string error, warning;
  Py_BEGIN_ALLOW_THREADS try {
    const CudaDriver& d = CudaDriver::get();
    if (!d.available()) throw EngineError("CUDA is not available: " + d.status());
    if (std::string why; !nvrtc_available(&why)) throw EngineError(why);  // loads NVRTC
    impl->target = cuda_target(d);
    const bool cubin = impl->target.rfind("sm_", 0) == 0;
    const std::string kind = cubin ? "cubin" : "ptx";
    std::string opts;
    for (const auto& o : nvrtc_default_options()) opts += o + " ";
    const std::string key =
        make_key({"cuda", PYHOST_KERNELS_VERSION, nvrtc_version(), opts, impl->target, src});
    KernelCache cache(KernelCache::default_dir());
    std::string image;
    std::string why;
    if (auto path = cache.lookup(key, kind, &why)) {
      image = read_file(*path);
      ++g_disk_hits;
    } else {
      if (!why.empty()) warning = "pyhost: ignored a kernel cache entry: " + why;
      NvrtcResult r = nvrtc_compile(src, kname + ".cu", impl->target, nvrtc_default_options());
      ++g_compiles;
      image = std::move(r.binary);
      if (cache.usable()) cache.store(key, kind, kname, impl->target, image);
    }
    if (!cubin) image.push_back('\0');
    impl->module = std::make_shared<CudaModule>(image, kname);
    impl->function = impl->module->function(symbol);
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS return finish_compile<CudaKernelObject>(state_of(module)->cuda_kernel_type,
                                                               std::move(impl), error, warning);
}

// CudaKernel.launch(dims, args) -> error site (0: none). Plain buffers are copied in, and the
// ones the kernel writes are copied back; device arrays stay where they are.
PyObject* cuda_kernel_launch(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "launch(dims, args)");
    return nullptr;
  }
  std::shared_ptr<CudaKernelImpl> impl = *reinterpret_cast<CudaKernelObject*>(self)->impl;
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
  return PyUnicode_FromString((*reinterpret_cast<CudaKernelObject*>(self)->impl)->target.c_str());
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
    {Py_tp_dealloc, reinterpret_cast<void*>(&cuda_kernel_dealloc)},
    {Py_tp_methods, cuda_kernel_methods},
    {Py_tp_getset, cuda_kernel_getset},
    {Py_tp_doc, const_cast<char*>("A kernel compiled by NVRTC and loaded on the GPU.")},
    {0, nullptr},
};

PyType_Spec cuda_kernel_spec = {
    "_pyhost_kernels.CudaKernel", sizeof(CudaKernelObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    cuda_kernel_slots};

// ---------------------------------------------------------------------------------------------
// DeviceBuffer(nbytes, dtype, shape): memory on the GPU that survives launches.

PyObject* device_buffer_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  Py_ssize_t nbytes = 0;
  const char* dtype_name = nullptr;
  PyObject* shape_obj = nullptr;
  static const char* kwlist[] = {"nbytes", "dtype", "shape", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nsO!", const_cast<char**>(kwlist), &nbytes,
                                   &dtype_name, &PyTuple_Type, &shape_obj)) {
    return nullptr;
  }
  const DType* dtype = find_dtype(dtype_name);
  if (!dtype || nbytes < 0) {
    PyErr_SetString(PyExc_ValueError, "DeviceBuffer: bad dtype or size");
    return nullptr;
  }
  std::vector<Py_ssize_t> shape;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(shape_obj); ++i) {
    Py_ssize_t s = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape_obj, i));
    if (s == -1 && PyErr_Occurred()) return nullptr;
    shape.push_back(s);
  }
  std::shared_ptr<DeviceMemory> memory;
  std::string error;
  Py_BEGIN_ALLOW_THREADS try {
    memory = std::make_shared<DeviceMemory>(static_cast<std::size_t>(nbytes));
    memory->zero();
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  PyObject* self = type->tp_alloc(type, 0);
  if (!self) return nullptr;
  auto* obj = reinterpret_cast<DeviceBufferObject*>(self);
  obj->memory = new (std::nothrow) std::shared_ptr<DeviceMemory>(std::move(memory));
  obj->shape = new (std::nothrow) std::vector<Py_ssize_t>(std::move(shape));
  obj->dtype = dtype;
  if (!obj->memory || !obj->shape) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return self;
}

void device_buffer_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* obj = reinterpret_cast<DeviceBufferObject*>(self);
  delete obj->memory;  // frees the device memory when the last launch using it is done
  delete obj->shape;
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* device_buffer_copy(PyObject* self, PyObject* arg, bool upload) {
  auto* obj = reinterpret_cast<DeviceBufferObject*>(self);
  BufferView view;
  if (!view.acquire(arg, upload ? PyBUF_SIMPLE : PyBUF_WRITABLE)) return nullptr;
  std::shared_ptr<DeviceMemory> memory = *obj->memory;
  const std::size_t bytes = static_cast<std::size_t>(view.view().len);
  if (bytes != memory->size()) {
    PyErr_Format(PyExc_ValueError, "DeviceBuffer holds %zu bytes, the buffer %zu", memory->size(),
                 bytes);
    return nullptr;
  }
  std::string error;
  Py_BEGIN_ALLOW_THREADS try {
    if (upload) {
      memory->upload(view.view().buf, bytes);
    } else {
      memory->download(view.view().buf, bytes);
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  Py_END_ALLOW_THREADS if (!error.empty()) {
    PyErr_SetString(PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject* device_buffer_upload(PyObject* self, PyObject* arg) {
  return device_buffer_copy(self, arg, true);
}
PyObject* device_buffer_download(PyObject* self, PyObject* arg) {
  return device_buffer_copy(self, arg, false);
}
PyObject* device_buffer_nbytes(PyObject* self, void*) {
  return PyLong_FromSize_t((*reinterpret_cast<DeviceBufferObject*>(self)->memory)->size());
}

PyMethodDef device_buffer_methods[] = {
    {"upload", &device_buffer_upload, METH_O, "upload(buffer): host -> device"},
    {"download", &device_buffer_download, METH_O, "download(buffer): device -> host"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef device_buffer_getset[] = {
    {"nbytes", &device_buffer_nbytes, nullptr, "size in bytes", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot device_buffer_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(&device_buffer_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(&device_buffer_dealloc)},
    {Py_tp_methods, device_buffer_methods},
    {Py_tp_getset, device_buffer_getset},
    {Py_tp_doc, const_cast<char*>("DeviceBuffer(nbytes, dtype, shape): GPU memory.")},
    {0, nullptr},
};

PyType_Spec device_buffer_spec = {"_pyhost_kernels.DeviceBuffer", sizeof(DeviceBufferObject), 0,
                                  Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
                                  device_buffer_slots};

// ---------------------------------------------------------------------------------------------
// Module functions

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
  std::size_t n = cache.clear();
  std::lock_guard<std::mutex> lock(g_libs_mu);
  return PyLong_FromSize_t(n);
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
  return Py_BuildValue("{s:l,s:l,s:l,s:l}", "compiles", g_compiles.load(), "disk_hits",
                       g_disk_hits.load(), "memory_hits", g_memory_hits.load(), "rejected_entries",
                       g_rejected_entries.load());
}

PyObject* py_forget_loaded(PyObject*, PyObject*) {
  // Tests: make the next compile go to the disk cache instead of this process's memory.
  std::lock_guard<std::mutex> lock(g_libs_mu);
  cpu_libraries().clear();
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
    // state is atomics and g_libs_mu (held for map operations only); kernel objects are immutable
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
