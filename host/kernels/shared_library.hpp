// RAII over dlopen handles.
#pragma once

#include <dlfcn.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace pyhost::kernels {

class SharedLibrary {
 public:
  SharedLibrary() = default;
  // Throws std::runtime_error with dlerror() when the library cannot be loaded.
  explicit SharedLibrary(const std::string& path, int flags = RTLD_NOW | RTLD_LOCAL)
      : handle_(::dlopen(path.c_str(), flags)) {
    if (!handle_) {
      const char* err = ::dlerror();
      throw std::runtime_error("cannot load " + path + ": " + (err ? err : "unknown error"));
    }
  }
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  SharedLibrary(SharedLibrary&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  SharedLibrary& operator=(SharedLibrary&& o) noexcept {
    if (this != &o) {
      close();
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  ~SharedLibrary() { close(); }

  bool loaded() const { return handle_ != nullptr; }
  void* symbol(const char* name) const { return handle_ ? ::dlsym(handle_, name) : nullptr; }

 private:
  void close() {
    if (handle_) ::dlclose(std::exchange(handle_, nullptr));
  }
  void* handle_ = nullptr;
};

}  // namespace pyhost::kernels
