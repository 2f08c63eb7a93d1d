#include "mpi/mpi_transport.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <thread>
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "mpi/library/pyhost_mpi_abi.h"
#include "util/process_info.hpp"

namespace pyhost::mpi {

struct MpiTransport::Api {
  int (*abi_version)();
  int (*init)(int*, int*, char*, int);
  void (*describe)(char*, int, char*, int);
  int (*send)(int, int, const char*, long);
  int (*probe)(int*, int*, long*);
  int (*recv)(int, int, char*, long);
  int (*finalize)();
  void (*abort)(int);
};

namespace {

std::vector<std::string> candidate_paths() {
  if (const char* chosen = std::getenv("PYHOST_MPI_LIBRARY"); chosen && *chosen) return {chosen};
  const std::filesystem::path bin = pyhost_exe().parent_path();
  return {(bin / "lib" / "libpyhost_mpi.so").string(),  // the build tree
          (bin.parent_path() / "lib" / "libpyhost_mpi.so").string(),
          // a wheel: pyhost/_bin/pyhost and pyhost/_lib/ (cmake/PyhostInstallDirs.cmake)
          (bin.parent_path() / "_lib" / "libpyhost_mpi.so").string(),
          (bin.parent_path() / "lib64" / "libpyhost_mpi.so").string()};
}

// RTLD_GLOBAL: Open MPI's components, loaded by libmpi itself, resolve libmpi's symbols.
void* load_library() {
  std::string errors;
  for (const auto& path : candidate_paths()) {
    if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) return handle;
    const char* error = ::dlerror();
    errors += "\n  " + (error ? std::string(error) : path);
  }
  throw MpiUnavailable(
      "MPI is not available: this pyhost has no usable libpyhost_mpi.so: `pyhost setup mpi` "
      "installs Open MPI and builds it. Looked for:" +
      errors);
}

template <typename F>
void bind(void* handle, F& slot, const char* name) {
  slot = reinterpret_cast<F>(::dlsym(handle, name));
  if (!slot) throw MpiUnavailable(std::string("libpyhost_mpi.so lacks ") + name);
}

}  // namespace

MpiTransport& MpiTransport::open() {
  static MpiTransport transport;
  if (transport.api_) return transport;
  static Api api;
  void* handle = load_library();
  bind(handle, api.abi_version, "pyhost_mpi_abi_version");
  if (api.abi_version() != PYHOST_MPI_ABI_VERSION)
    throw MpiUnavailable("libpyhost_mpi.so is from another version of pyhost");
  bind(handle, api.init, "pyhost_mpi_init");
  bind(handle, api.describe, "pyhost_mpi_describe");
  bind(handle, api.send, "pyhost_mpi_send");
  bind(handle, api.probe, "pyhost_mpi_probe");
  bind(handle, api.recv, "pyhost_mpi_recv");
  bind(handle, api.finalize, "pyhost_mpi_finalize");
  bind(handle, api.abort, "pyhost_mpi_abort");
  char error[256] = "";
  if (api.init(&transport.rank_, &transport.size_, error, sizeof error) != 0)
    throw MpiUnavailable(std::string("MPI could not start: ") + error);
  char library[256] = "", host[256] = "";
  api.describe(library, sizeof library, host, sizeof host);
  transport.host_ = host;
  transport.api_ = &api;
  return transport;
}

void MpiTransport::send(int dest, int tag, std::string_view bytes) {
  if (api_->send(dest, tag, bytes.data(), static_cast<long>(bytes.size())) != 0)
    throw std::runtime_error("MPI send to rank " + std::to_string(dest) + " failed");
}

std::optional<Message> MpiTransport::poll() {
  Message message;
  long length = 0;
  if (!api_->probe(&message.source, &message.tag, &length)) return std::nullopt;
  message.bytes.resize(static_cast<std::size_t>(length));
  if (api_->recv(message.source, message.tag, message.bytes.data(), length) != 0)
    throw std::runtime_error("MPI receive from rank " + std::to_string(message.source) + " failed");
  return message;
}

Message MpiTransport::wait_for(int tag) {
  for (auto pause = std::chrono::microseconds(20);;) {
    if (auto message = poll()) {
      if (message->tag == tag) return *message;
      throw std::runtime_error(
          fmt::format("unexpected MPI message {} from rank {}", message->tag, message->source));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

void MpiTransport::finalize() {
  api_->finalize();
}

void MpiTransport::abort(int code) {
  api_->abort(code);
  std::_Exit(code);
}

}  // namespace pyhost::mpi
