// From kernel source to a loaded kernel image, the same way for every target: the cache key, the
// images this process has loaded, the disk cache, the compiler, the statistics. The CPU fallback
// (system C++ compiler -> shared object) and CUDA (NVRTC -> CUBIN or PTX) differ only in their
// Toolchain. Plain C++, no Python: tests/unit/kernels drives it with a stand-in compiler.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pyhost::kernels {

// One way of turning kernel source into a binary image.
struct Toolchain {
  std::string kind;                   // "cpu" | "cuda": the first field of the cache key
  std::string payload;                // cache entry kind (file extension): "so", "cubin", "ptx"
  std::string arch;                   // what the image runs on: "x86_64", "sm_90", "compute_90"
  std::vector<std::string> identity;  // compiler, its version, flags: the rest of the key
  // Compiles `source` (kernel `name`, for messages) into the file `out`; throws
  // std::runtime_error with the compiler's messages.
  std::function<void(const std::string& source, const std::string& name,
                     const std::filesystem::path& out)>
      compile;
};

// What a build hands back: the image loaded by the caller's Loader (a dlopen'ed library, a CUDA
// module). Shared: every kernel built from the same key uses the same loaded image.
using LoadedImage = std::shared_ptr<void>;
using Loader = std::function<LoadedImage(const std::filesystem::path& image)>;

// Counters of this process (for tests and `pyhost kernels`).
struct BuildStats {
  long compiles = 0;
  long disk_hits = 0;
  long memory_hits = 0;
  long rejected_entries = 0;  // damaged or unsafe cache entries that were ignored
};

class KernelBuilder {
 public:
  // `cache_dir` empty: no disk cache (every process compiles).
  explicit KernelBuilder(std::filesystem::path cache_dir);

  // The loaded image of `source`: one this process loaded already, else the disk cache's, else
  // compiled now (and stored in the cache). Thread-safe; call it without the GIL. `warning` is
  // set when a damaged cache entry was ignored (and rebuilt).
  LoadedImage build(const Toolchain& toolchain, const std::string& name, const std::string& source,
                    const Loader& load, std::string* warning);

  static std::string key_of(const Toolchain& toolchain, const std::string& source);
  static BuildStats stats();
  // Tests: the next build of a key goes to the disk cache instead of this process's memory.
  static void forget_loaded();

 private:
  std::filesystem::path cache_dir_;
};

}  // namespace pyhost::kernels
