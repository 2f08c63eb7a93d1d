#include "kernels/toolchains.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "kernels/cpu_compiler.hpp"
#include "kernels/cuda_driver.hpp"
#include "kernels/kernel_cache.hpp"
#include "kernels/nvrtc.hpp"
#include "kernels/shared_library.hpp"

namespace fs = std::filesystem;

namespace pyhost::kernels {
namespace {

void write_text(const fs::path& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw std::runtime_error("cannot write " + path.string());
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += w + " ";
  return s;
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
  if (archs.empty()) throw std::runtime_error("NVRTC reports no supported GPU architecture");
  const int cc = d.compute_capability();
  if (std::find(archs.begin(), archs.end(), cc) != archs.end()) return "sm_" + std::to_string(cc);
  int best = 0;
  for (int a : archs) {
    if (a <= cc) best = std::max(best, a);
  }
  if (best == 0) {
    throw std::runtime_error("the GPU (sm_" + std::to_string(cc) +
                             ") is older than every architecture NVRTC " + nvrtc_version() +
                             " supports");
  }
  if (d.driver_version() < nvrtc_version_number()) {
    throw std::runtime_error("NVRTC " + nvrtc_version() + " cannot build CUBIN for sm_" +
                             std::to_string(cc) +
                             ", and PTX needs a driver at least as new as NVRTC (driver API " +
                             std::to_string(d.driver_version()) + ")");
  }
  return "compute_" + std::to_string(best);
}

}  // namespace

Toolchain cpu_toolchain() {
  const CompilerInfo& cc = cpu_compiler();
  if (!cc.found) throw std::runtime_error(cc.problem);
  Toolchain tc;
  tc.kind = "cpu";
  tc.payload = "so";
  tc.arch = host_arch();
  tc.identity = {cc.path, cc.version, joined(cpu_compile_flags()), cc.native_target};
  tc.compile = [](const std::string& source, const std::string&, const fs::path& out) {
    const fs::path src = fs::path(out).replace_extension(".cpp");
    struct Remove {
      fs::path p;
      ~Remove() {
        std::error_code ec;
        fs::remove(p, ec);
      }
    } remove_source{src};
    write_text(src, source);
    compile_shared_object(src, out);
  };
  return tc;
}

LoadedImage load_cpu_image(const fs::path& image) {
  return std::make_shared<SharedLibrary>(image.string());
}

Toolchain cuda_toolchain(const CudaDriver& d) {
  if (!d.available()) throw std::runtime_error("CUDA is not available: " + d.status());
  if (std::string why; !nvrtc_available(&why)) throw std::runtime_error(why);  // loads NVRTC
  Toolchain tc;
  tc.kind = "cuda";
  tc.arch = cuda_target(d);
  tc.payload = tc.arch.rfind("sm_", 0) == 0 ? "cubin" : "ptx";
  tc.identity = {nvrtc_version(), joined(nvrtc_default_options())};
  tc.compile = [arch = tc.arch](const std::string& source, const std::string& name,
                                const fs::path& out) {
    NvrtcResult r = nvrtc_compile(source, name + ".cu", arch, nvrtc_default_options());
    write_text(out, r.binary);
  };
  return tc;
}

LoadedImage load_cuda_image(const fs::path& image, const std::string& payload,
                            const std::string& kernel_name) {
  std::string bytes = read_file(image);
  if (payload == "ptx") bytes.push_back('\0');  // the driver reads PTX as a C string
  return std::make_shared<CudaModule>(bytes, kernel_name);
}

}  // namespace pyhost::kernels
