// The toolchains KernelBuilder builds with: the system C++ compiler for the CPU fallback and
// NVRTC for CUDA, and how each one's image is loaded.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "kernels/kernel_builder.hpp"

namespace pyhost::kernels {

class CudaDriver;

// The system C++ compiler (cpu_compiler.hpp) making shared objects for this machine's CPU.
// Throws std::runtime_error when there is no compiler.
Toolchain cpu_toolchain();
// dlopen()s a CPU image (a SharedLibrary).
LoadedImage load_cpu_image(const std::filesystem::path& image);

// NVRTC building for the device of `driver`: CUBIN for its exact architecture when NVRTC knows
// it, else PTX for the newest one NVRTC knows. Throws when CUDA or NVRTC cannot be used.
Toolchain cuda_toolchain(const CudaDriver& driver);
// Loads a CUBIN or PTX image (payload "cubin" / "ptx") as a CudaModule (errors name the kernel).
LoadedImage load_cuda_image(const std::filesystem::path& image, const std::string& payload,
                            const std::string& kernel_name);

}  // namespace pyhost::kernels
