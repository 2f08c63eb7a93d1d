#include "kernels/nvrtc.hpp"

#include <stdexcept>
#include <utility>

#if PYHOST_HAVE_NVRTC
#include <dlfcn.h>
#include <nvrtc.h>

#include <cstdlib>
#include <type_traits>
#endif

// Where CMake found the toolkit's libnvrtc, and its soname ("libnvrtc.so.13").
#ifndef PYHOST_NVRTC_LIBDIR
#define PYHOST_NVRTC_LIBDIR ""
#endif
#ifndef PYHOST_NVRTC_SONAME
#define PYHOST_NVRTC_SONAME "libnvrtc.so"
#endif

namespace pyhost::kernels {

const std::vector<std::string>& nvrtc_default_options() {
  static const std::vector<std::string> opts = {"--std=c++17", "-default-device",
                                                "--device-as-default-execution-space"};
  return opts;
}

#if PYHOST_HAVE_NVRTC
namespace {

// The entry points we use, typed from nvrtc.h, resolved with dlsym from the loaded library.
struct NvrtcApi {
  bool ok = false;
  std::string path;   // the library loaded
  std::string error;  // why none could be loaded (when !ok)
  decltype(&::nvrtcGetErrorString) GetErrorString = nullptr;
  decltype(&::nvrtcVersion) Version = nullptr;
  decltype(&::nvrtcGetNumSupportedArchs) GetNumSupportedArchs = nullptr;
  decltype(&::nvrtcGetSupportedArchs) GetSupportedArchs = nullptr;
  decltype(&::nvrtcCreateProgram) CreateProgram = nullptr;
  decltype(&::nvrtcDestroyProgram) DestroyProgram = nullptr;
  decltype(&::nvrtcCompileProgram) CompileProgram = nullptr;
  decltype(&::nvrtcGetPTXSize) GetPTXSize = nullptr;
  decltype(&::nvrtcGetPTX) GetPTX = nullptr;
  decltype(&::nvrtcGetCUBINSize) GetCUBINSize = nullptr;
  decltype(&::nvrtcGetCUBIN) GetCUBIN = nullptr;
  decltype(&::nvrtcGetProgramLogSize) GetProgramLogSize = nullptr;
  decltype(&::nvrtcGetProgramLog) GetProgramLog = nullptr;
};

// The libraries to try, in order.
std::vector<std::string> candidates() {
  if (const char* env = std::getenv("PYHOST_NVRTC"); env && *env) return {env};
  std::vector<std::string> out;
  auto add = [&](std::string name) {
    for (const auto& c : out) {
      if (c == name) return;
    }
    out.push_back(std::move(name));
  };
  if (*PYHOST_NVRTC_LIBDIR) add(std::string(PYHOST_NVRTC_LIBDIR) + "/" + PYHOST_NVRTC_SONAME);
  add(PYHOST_NVRTC_SONAME);
  add("libnvrtc.so");
  return out;
}

NvrtcApi* load() {
  auto* api = new NvrtcApi();  // process lifetime, like the library itself
  std::string tried;
  for (const auto& name : candidates()) {
    void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* err = ::dlerror();
      tried += "\n  " + name + ": " + (err ? err : "cannot load");
      continue;
    }
    std::string missing;
    auto resolve = [&](const char* symbol, auto& slot) {
      void* fn = ::dlsym(handle, symbol);
      if (!fn) missing += std::string(missing.empty() ? "" : ", ") + symbol;
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(fn);
    };
    resolve("nvrtcGetErrorString", api->GetErrorString);
    resolve("nvrtcVersion", api->Version);
    resolve("nvrtcGetNumSupportedArchs", api->GetNumSupportedArchs);
    resolve("nvrtcGetSupportedArchs", api->GetSupportedArchs);
    resolve("nvrtcCreateProgram", api->CreateProgram);
    resolve("nvrtcDestroyProgram", api->DestroyProgram);
    resolve("nvrtcCompileProgram", api->CompileProgram);
    resolve("nvrtcGetPTXSize", api->GetPTXSize);
    resolve("nvrtcGetPTX", api->GetPTX);
    resolve("nvrtcGetCUBINSize", api->GetCUBINSize);
    resolve("nvrtcGetCUBIN", api->GetCUBIN);
    resolve("nvrtcGetProgramLogSize", api->GetProgramLogSize);
    resolve("nvrtcGetProgramLog", api->GetProgramLog);
    if (!missing.empty()) {
      ::dlclose(handle);
      *api = NvrtcApi();
      tried += "\n  " + name + ": lacks " + missing + " (NVRTC older than CUDA 11.2?)";
      continue;
    }
    api->ok = true;
    api->path = name;
    return api;  // the handle stays open for the life of the process
  }
  api->error =
      "NVRTC could not be loaded (set PYHOST_NVRTC to the path of libnvrtc.so); tried:" + tried;
  return api;
}

// Loaded on first use; thread-safe (a function-local static is initialised once).
const NvrtcApi& api() {
  static const NvrtcApi* table = load();
  return *table;
}

// The table, or a std::runtime_error saying what was tried.
const NvrtcApi& loaded_api() {
  const NvrtcApi& a = api();
  if (!a.ok) throw std::runtime_error(a.error);
  return a;
}

void check(const NvrtcApi& a, nvrtcResult r, const char* what) {
  if (r != NVRTC_SUCCESS) {
    throw std::runtime_error(std::string(what) + " failed: " + a.GetErrorString(r));
  }
}

// Owns one nvrtcProgram.
class Program {
 public:
  Program(const NvrtcApi& a, const std::string& source, const std::string& name) : api_(a) {
    check(api_, api_.CreateProgram(&prog_, source.c_str(), name.c_str(), 0, nullptr, nullptr),
          "nvrtcCreateProgram");
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program() {
    if (prog_) api_.DestroyProgram(&prog_);
  }
  nvrtcProgram get() const { return prog_; }

 private:
  const NvrtcApi& api_;
  nvrtcProgram prog_ = nullptr;
};

}  // namespace

bool nvrtc_built_in() {
  return true;
}

bool nvrtc_available(std::string* status) {
  const NvrtcApi& a = api();
  if (status) *status = a.ok ? "NVRTC " + nvrtc_version() + " (" + a.path + ")" : a.error;
  return a.ok;
}

std::string nvrtc_version() {
  const NvrtcApi& a = api();
  int major = 0, minor = 0;
  if (!a.ok || a.Version(&major, &minor) != NVRTC_SUCCESS) return "";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<int> nvrtc_supported_archs() {
  const NvrtcApi& a = api();
  int n = 0;
  if (!a.ok || a.GetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0) return {};
  std::vector<int> archs(static_cast<std::size_t>(n));
  if (a.GetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  return archs;
}

NvrtcResult nvrtc_compile(const std::string& source, const std::string& name,
                          const std::string& arch, const std::vector<std::string>& options) {
  const bool cubin = arch.rfind("sm_", 0) == 0;
  if (!cubin && arch.rfind("compute_", 0) != 0) {
    throw std::runtime_error("NVRTC target must be sm_XY or compute_XY, got '" + arch + "'");
  }
  const NvrtcApi& a = loaded_api();
  Program prog(a, source, name);
  std::vector<std::string> opts = options;
  opts.push_back("--gpu-architecture=" + arch);
  std::vector<const char*> argv;
  argv.reserve(opts.size());
  for (const auto& o : opts) argv.push_back(o.c_str());
  nvrtcResult rc = a.CompileProgram(prog.get(), static_cast<int>(argv.size()), argv.data());
  NvrtcResult out;
  std::size_t log_size = 0;
  if (a.GetProgramLogSize(prog.get(), &log_size) == NVRTC_SUCCESS && log_size > 1) {
    out.log.resize(log_size);
    if (a.GetProgramLog(prog.get(), out.log.data()) != NVRTC_SUCCESS) out.log.clear();
    while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n'))
      out.log.pop_back();
  }
  if (rc != NVRTC_SUCCESS) {
    throw std::runtime_error("NVRTC could not compile " + name + " for " + arch + " (" +
                             a.GetErrorString(rc) + "):\n" + out.log);
  }
  std::size_t size = 0;
  if (cubin) {
    check(a, a.GetCUBINSize(prog.get(), &size), "nvrtcGetCUBINSize");
    out.binary.resize(size);
    check(a, a.GetCUBIN(prog.get(), out.binary.data()), "nvrtcGetCUBIN");
  } else {
    check(a, a.GetPTXSize(prog.get(), &size), "nvrtcGetPTXSize");
    out.binary.resize(size);
    check(a, a.GetPTX(prog.get(), out.binary.data()), "nvrtcGetPTX");
    while (!out.binary.empty() && out.binary.back() == '\0') out.binary.pop_back();
  }
  return out;
}

#else  // built without the CUDA toolkit

namespace {
const char* const kNoNvrtc =
    "pyhost was built without NVRTC (the CUDA toolkit was not found at configure time)";
}

bool nvrtc_built_in() {
  return false;
}
bool nvrtc_available(std::string* status) {
  if (status) *status = kNoNvrtc;
  return false;
}
std::string nvrtc_version() {
  return "";
}
std::vector<int> nvrtc_supported_archs() {
  return {};
}
NvrtcResult nvrtc_compile(const std::string&, const std::string&, const std::string&,
                          const std::vector<std::string>&) {
  throw std::runtime_error(kNoNvrtc);
}

#endif

}  // namespace pyhost::kernels
