#include "kernels/cuda_driver.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace pyhost::kernels {
namespace {

constexpr CUresult kSuccess = 0;
constexpr int kAttrMultiprocessorCount = 16;
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
// The driver API version whose entry points we ask for (CUDA 12.0: the _v2 functions).
constexpr int kApiVersion = 12000;

using GetProcAddressV2 = CUresult (*)(const char*, void**, int, unsigned long long, int*);
using GetProcAddressV1 = CUresult (*)(const char*, void**, int, unsigned long long);

}  // namespace

CudaDriver& CudaDriver::get() {
  static std::once_flag once;
  static CudaDriver* driver = nullptr;
  std::call_once(once, [] {
    driver = new CudaDriver();  // process lifetime
  });
  return *driver;
}

CudaDriver::CudaDriver() {
  try {
    load();
  } catch (const std::exception& e) {
    available_ = false;
    status_ = e.what();
  }
}

void CudaDriver::load() {
  const char* override_path = std::getenv("PYHOST_LIBCUDA");
  std::string path = override_path && *override_path ? override_path : "libcuda.so.1";
  lib_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib_) {
    const char* err = ::dlerror();
    throw std::runtime_error("no NVIDIA driver: cannot load " + path + " (" +
                             (err ? err : "unknown error") + ")");
  }
  // cuGetProcAddress is the one symbol looked up by name; everything else comes through it.
  void* v2 = ::dlsym(lib_, "cuGetProcAddress_v2");
  void* v1 = v2 ? nullptr : ::dlsym(lib_, "cuGetProcAddress");
  if (!v2 && !v1) {
    throw std::runtime_error(path + " has no cuGetProcAddress (driver older than CUDA 11.3)");
  }
  auto resolve = [&](const char* name, auto& slot) {
    void* fn = nullptr;
    CUresult r;
    if (v2) {
      int status = 0;
      r = reinterpret_cast<GetProcAddressV2>(v2)(name, &fn, kApiVersion, 0, &status);
    } else {
      r = reinterpret_cast<GetProcAddressV1>(v1)(name, &fn, kApiVersion, 0);
    }
    if (r != kSuccess || !fn) {
      throw std::runtime_error(std::string("cuGetProcAddress(") + name + ") failed with error " +
                               std::to_string(r) + " (driver too old?)");
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(fn);
  };
  resolve("cuGetErrorName", cuGetErrorName);
  resolve("cuGetErrorString", cuGetErrorString);
  resolve("cuInit", cuInit);
  resolve("cuDriverGetVersion", cuDriverGetVersion);
  resolve("cuDeviceGetCount", cuDeviceGetCount);
  resolve("cuDeviceGet", cuDeviceGet);
  resolve("cuDeviceGetName", cuDeviceGetName);
  resolve("cuDeviceGetAttribute", cuDeviceGetAttribute);
  resolve("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain);
  resolve("cuCtxSetCurrent", cuCtxSetCurrent);
  resolve("cuCtxSynchronize", cuCtxSynchronize);
  resolve("cuModuleLoadData", cuModuleLoadData);
  resolve("cuModuleUnload", cuModuleUnload);
  resolve("cuModuleGetFunction", cuModuleGetFunction);
  resolve("cuMemAlloc", cuMemAlloc);
  resolve("cuMemFree", cuMemFree);
  resolve("cuMemcpyHtoD", cuMemcpyHtoD);
  resolve("cuMemcpyDtoH", cuMemcpyDtoH);
  resolve("cuMemsetD8", cuMemsetD8);
  resolve("cuLaunchKernel", cuLaunchKernel);

  check(cuInit(0), "cuInit");
  check(cuDriverGetVersion(&driver_version_), "cuDriverGetVersion");
  int count = 0;
  check(cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count <= 0) throw std::runtime_error("the NVIDIA driver reports no CUDA device");
  int ordinal = 0;
  if (const char* env = std::getenv("PYHOST_CUDA_DEVICE"); env && *env) {
    ordinal = std::atoi(env);
    if (ordinal < 0 || ordinal >= count) {
      throw std::runtime_error("PYHOST_CUDA_DEVICE=" + std::string(env) + " but there are " +
                               std::to_string(count) + " device(s)");
    }
  }
  check(cuDeviceGet(&device_, ordinal), "cuDeviceGet");
  char name[256] = {0};
  check(cuDeviceGetName(name, sizeof name - 1, device_), "cuDeviceGetName");
  device_name_ = name;
  int major = 0, minor = 0;
  check(cuDeviceGetAttribute(&major, kAttrComputeCapabilityMajor, device_),
        "cuDeviceGetAttribute(compute capability major)");
  check(cuDeviceGetAttribute(&minor, kAttrComputeCapabilityMinor, device_),
        "cuDeviceGetAttribute(compute capability minor)");
  check(cuDeviceGetAttribute(&sm_count_, kAttrMultiprocessorCount, device_),
        "cuDeviceGetAttribute(multiprocessor count)");
  cc_ = major * 10 + minor;
  check(cuDevicePrimaryCtxRetain(&ctx_, device_), "cuDevicePrimaryCtxRetain");
  available_ = true;
  status_ = device_name_ + " (sm_" + std::to_string(cc_) + ", driver " +
            std::to_string(driver_version_ / 1000) + "." +
            std::to_string((driver_version_ % 1000) / 10) + ")";
}

void CudaDriver::check(CUresult r, const std::string& what) const {
  if (r == kSuccess) return;
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName) cuGetErrorName(r, &name);
  if (cuGetErrorString) cuGetErrorString(r, &text);
  throw std::runtime_error(what + " failed: " + (name ? name : "CUDA error " + std::to_string(r)) +
                           (text ? std::string(" (") + text + ")" : std::string()));
}

void CudaDriver::make_current() const {
  if (!available_) throw std::runtime_error("CUDA is not available: " + status_);
  check(cuCtxSetCurrent(ctx_), "cuCtxSetCurrent");
}

DeviceMemory::DeviceMemory(std::size_t bytes) : size_(bytes) {
  const CudaDriver& d = CudaDriver::get();
  d.make_current();
  d.check(d.cuMemAlloc(&ptr_, std::max<std::size_t>(bytes, 1)),
          "cuMemAlloc(" + std::to_string(bytes) + " bytes)");
}

DeviceMemory::~DeviceMemory() {
  if (ptr_) {
    const CudaDriver& d = CudaDriver::get();
    try {
      d.make_current();
      d.cuMemFree(ptr_);  // nothing sensible to do with a failure while freeing
    } catch (const std::exception&) {
    }
  }
}

void DeviceMemory::upload(const void* src, std::size_t bytes) {
  const CudaDriver& d = CudaDriver::get();
  if (bytes > size_) throw std::runtime_error("upload larger than the device buffer");
  d.make_current();
  if (bytes)
    d.check(d.cuMemcpyHtoD(ptr_, src, bytes), "cuMemcpyHtoD(" + std::to_string(bytes) + " bytes)");
}

void DeviceMemory::download(void* dst, std::size_t bytes) const {
  const CudaDriver& d = CudaDriver::get();
  if (bytes > size_) throw std::runtime_error("download larger than the device buffer");
  d.make_current();
  if (bytes)
    d.check(d.cuMemcpyDtoH(dst, ptr_, bytes), "cuMemcpyDtoH(" + std::to_string(bytes) + " bytes)");
}

void DeviceMemory::zero() {
  const CudaDriver& d = CudaDriver::get();
  d.make_current();
  d.check(d.cuMemsetD8(ptr_, 0, std::max<std::size_t>(size_, 1)), "cuMemsetD8");
}

CudaModule::CudaModule(const std::string& image, const std::string& what) {
  const CudaDriver& d = CudaDriver::get();
  d.make_current();
  d.check(d.cuModuleLoadData(&module_, image.data()), "cuModuleLoadData(" + what + ")");
}

CudaModule::~CudaModule() {
  if (module_) {
    const CudaDriver& d = CudaDriver::get();
    try {
      d.make_current();
      d.cuModuleUnload(module_);
    } catch (const std::exception&) {
    }
  }
}

CUfunction CudaModule::function(const std::string& name) const {
  const CudaDriver& d = CudaDriver::get();
  CUfunction fn = nullptr;
  d.check(d.cuModuleGetFunction(&fn, module_, name.c_str()), "cuModuleGetFunction(" + name + ")");
  return fn;
}

void cuda_launch(CUfunction fn, std::int64_t total, std::vector<void*>& params,
                 const std::string& what) {
  const CudaDriver& d = CudaDriver::get();
  d.make_current();
  if (total <= 0) return;
  constexpr unsigned kBlock = 256;
  // Enough blocks to fill the device several times over; the kernel strides over the rest.
  const std::int64_t max_blocks = std::max(1, d.multiprocessors()) * 32LL;
  const std::int64_t need = (total + kBlock - 1) / kBlock;
  const unsigned grid = static_cast<unsigned>(std::min(need, max_blocks));
  d.check(d.cuLaunchKernel(fn, grid, 1, 1, kBlock, 1, 1, 0, nullptr, params.data(), nullptr),
          "cuLaunchKernel(" + what + ")");
  d.check(d.cuCtxSynchronize(), "kernel " + what + " (cuCtxSynchronize after the launch)");
}

}  // namespace pyhost::kernels
