// The CUDA driver API, loaded at run time: dlopen("libcuda.so.1") and cuGetProcAddress, so that
// pyhost starts and works where no NVIDIA driver is installed. Never linked with -lcuda.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pyhost::kernels {

// The few driver types we use (ABI of cuda.h on 64-bit platforms).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
using CUcontext = CUctx_st*;
using CUmodule = CUmod_st*;
using CUfunction = CUfunc_st*;
using CUstream = CUstream_st*;

class CudaDriver {
 public:
  // The process-wide driver (loaded on first use; never throws).
  static CudaDriver& get();

  bool available() const { return available_; }
  // Why CUDA is unavailable, or a description of the device in use.
  const std::string& status() const { return status_; }
  int driver_version() const { return driver_version_; }  // e.g. 12080
  int compute_capability() const { return cc_; }          // e.g. 90
  int multiprocessors() const { return sm_count_; }

  // Makes the primary context current on the calling thread; throws when unavailable.
  void make_current() const;
  // Throws std::runtime_error("<what> failed: CUDA_ERROR_X (text)") unless r == 0.
  void check(CUresult r, const std::string& what) const;

  // Entry points (valid when available()).
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDriverGetVersion)(int*) = nullptr;
  CUresult (*cuDeviceGetCount)(int*) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice*, int) = nullptr;
  CUresult (*cuDeviceGetName)(char*, int, CUdevice) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule*, const void*) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr*, std::size_t) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void*, std::size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void*, CUdeviceptr, std::size_t) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, std::size_t) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, CUstream, void**, void**) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char**) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char**) = nullptr;

 private:
  CudaDriver();
  void load();
  bool available_ = false;
  std::string status_;
  void* lib_ = nullptr;  // dlopen handle, kept for the life of the process
  CUdevice device_ = 0;
  CUcontext ctx_ = nullptr;
  int driver_version_ = 0;
  int cc_ = 0;
  int sm_count_ = 0;
  std::string device_name_;
};

// Device memory, freed when the object goes.
class DeviceMemory {
 public:
  explicit DeviceMemory(std::size_t bytes);
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory();
  CUdeviceptr ptr() const { return ptr_; }
  std::size_t size() const { return size_; }
  void upload(const void* src, std::size_t bytes);
  void download(void* dst, std::size_t bytes) const;
  void zero();

 private:
  CUdeviceptr ptr_ = 0;
  std::size_t size_ = 0;
};

// A loaded CUDA module (PTX or CUBIN), unloaded when the object goes.
class CudaModule {
 public:
  CudaModule(const std::string& image, const std::string& what);
  CudaModule(const CudaModule&) = delete;
  CudaModule& operator=(const CudaModule&) = delete;
  ~CudaModule();
  CUfunction function(const std::string& name) const;

 private:
  CUmodule module_ = nullptr;
};

// Launches `fn` over `total` flat indices (grid-stride kernel) and waits for it.
void cuda_launch(CUfunction fn, std::int64_t total, std::vector<void*>& params,
                 const std::string& what);

}  // namespace pyhost::kernels
