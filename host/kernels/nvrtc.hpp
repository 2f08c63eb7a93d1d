// NVRTC: CUDA C++ source -> PTX or CUBIN at run time.
//
// libnvrtc (over 100 MB) is never linked: it is loaded with dlopen at the first call that needs it
// (a compile, the version, the architectures), like the driver in cuda_driver.cpp, so that
// pyhost starts without mapping it and works where it is missing (the CPU fallback needs no
// NVRTC). Search order: $PYHOST_NVRTC (a path; when set, the only candidate), then the toolkit's
// library directory recorded at build time, then dlopen("libnvrtc.so.<major>") and
// dlopen("libnvrtc.so") through the loader's usual search.
#pragma once

#include <string>
#include <vector>

namespace pyhost::kernels {

// Whether pyhost was built with NVRTC support (nvrtc.h found at configure time). Says nothing
// about whether the library can be loaded now: see nvrtc_available().
bool nvrtc_built_in();
// Loads NVRTC on first use (thread-safe, once per process). True when its entry points are
// ready. `status`, when given, gets "NVRTC 13.0 (<path loaded>)", or what was tried and why
// each failed.
bool nvrtc_available(std::string* status = nullptr);
// "13.0", or "" without NVRTC (loads it).
std::string nvrtc_version();
// Real architectures this NVRTC can build CUBIN for (75, 80, 86, 89, 90, ...); loads it.
std::vector<int> nvrtc_supported_archs();

struct NvrtcResult {
  std::string binary;  // PTX text or CUBIN bytes
  std::string log;     // compiler messages (warnings)
};

// Compiles `source` for `arch`: "sm_XY" gives CUBIN, "compute_XY" gives PTX. Throws
// std::runtime_error with NVRTC's log when the source does not compile, or saying which
// libraries were tried when NVRTC cannot be loaded.
NvrtcResult nvrtc_compile(const std::string& source, const std::string& name,
                          const std::string& arch, const std::vector<std::string>& options);

// Options every kernel is compiled with (part of the cache key).
const std::vector<std::string>& nvrtc_default_options();

}  // namespace pyhost::kernels
