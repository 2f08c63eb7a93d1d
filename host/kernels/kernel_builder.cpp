#include "kernels/kernel_builder.hpp"

#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "kernels/kernel_cache.hpp"

#ifndef PYHOST_KERNELS_VERSION
#define PYHOST_KERNELS_VERSION "0"
#endif

namespace fs = std::filesystem;

namespace pyhost::kernels {
namespace {

std::atomic<long> g_compiles{0};
std::atomic<long> g_disk_hits{0};
std::atomic<long> g_memory_hits{0};
std::atomic<long> g_rejected_entries{0};

// Images this process loaded, by key, shared by every interpreter. Weak: an image is unloaded
// when its last kernel goes.
std::mutex g_loaded_mu;
std::unordered_map<std::string, std::weak_ptr<void>>& loaded_images() {
  static auto* images = new std::unordered_map<std::string, std::weak_ptr<void>>();
  return *images;
}

// A private temporary directory, removed with what is in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pyhost-kernel-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Removes a file when the scope ends (a temporary left behind by a failed compile).
struct RemoveOnExit {
  fs::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

KernelBuilder::KernelBuilder(fs::path cache_dir) : cache_dir_(std::move(cache_dir)) {}

std::string KernelBuilder::key_of(const Toolchain& tc, const std::string& source) {
  std::vector<std::string> fields = {tc.kind, PYHOST_KERNELS_VERSION, tc.arch};
  fields.insert(fields.end(), tc.identity.begin(), tc.identity.end());
  fields.push_back(source);
  return make_key(fields);
}

LoadedImage KernelBuilder::build(const Toolchain& tc, const std::string& name,
                                 const std::string& source, const Loader& load,
                                 std::string* warning) {
  const std::string key = key_of(tc, source);
  {
    std::lock_guard<std::mutex> lock(g_loaded_mu);
    auto it = loaded_images().find(key);
    if (it != loaded_images().end()) {
      if (LoadedImage image = it->second.lock()) {
        ++g_memory_hits;
        return image;
      }
    }
  }
  LoadedImage image;
  KernelCache cache(cache_dir_);
  if (cache.usable()) {
    std::string why;
    if (auto path = cache.lookup(key, tc.payload, &why)) {
      image = load(*path);
      ++g_disk_hits;
    } else if (!why.empty()) {
      ++g_rejected_entries;
      if (warning) *warning = "pyhost: ignored a kernel cache entry: " + why;
    }
    if (!image) {
      RemoveOnExit temp{cache.temp_path("." + tc.payload)};
      tc.compile(source, name, temp.path);  // throws with the compiler's messages
      ++g_compiles;
      image = load(cache.adopt(temp.path, key, tc.payload, name, tc.arch));
    }
  } else {
    TempDir tmp;  // the image stays loaded after its file goes
    const fs::path out = tmp.path / ("kernel." + tc.payload);
    tc.compile(source, name, out);
    ++g_compiles;
    image = load(out);
  }
  std::lock_guard<std::mutex> lock(g_loaded_mu);
  loaded_images()[key] = image;
  return image;
}

BuildStats KernelBuilder::stats() {
  return {g_compiles.load(), g_disk_hits.load(), g_memory_hits.load(), g_rejected_entries.load()};
}

void KernelBuilder::forget_loaded() {
  std::lock_guard<std::mutex> lock(g_loaded_mu);
  loaded_images().clear();
}

}  // namespace pyhost::kernels
