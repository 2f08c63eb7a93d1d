// The system C++ compiler that builds the CPU fallback of each kernel at run time.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pyhost::kernels {

struct CompilerInfo {
  bool found = false;
  std::string path;           // absolute path of the compiler
  std::string version;        // first line of `--version`
  std::string problem;        // why none was found
  std::string native_target;  // what -march=native expands to here (part of the cache key)
};

// $PYHOST_CXX, else $CXX, else c++ / g++ / clang++ on PATH; probed once per process.
const CompilerInfo& cpu_compiler();

// Flags every CPU kernel is built with (part of the cache key). -ffp-contract=off keeps a*b+c
// two roundings as in Python; -fwrapv makes integer overflow wrap.
const std::vector<std::string>& cpu_compile_flags();

// Compiles `source_file` into the shared object `output`; throws std::runtime_error with the
// compiler's messages on failure.
void compile_shared_object(const std::filesystem::path& source_file,
                           const std::filesystem::path& output);

// Name of this machine's architecture for cache keys ("x86_64").
std::string host_arch();

}  // namespace pyhost::kernels
