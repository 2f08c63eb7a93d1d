// The Python types of compiled kernels: CpuKernel (a shared object run by the thread pool) and
// CudaKernel (a CUDA module), each made by compile_cpu / compile_cuda and launched with
// `launch(dims, args) -> error site`.
#pragma once

#include <Python.h>

namespace pyhost::kernels {

extern PyType_Spec cpu_kernel_spec;
extern PyType_Spec cuda_kernel_spec;

// compile_cpu(name, cname, source, params) -> CpuKernel
PyObject* compile_cpu(PyObject* module, PyObject* args);
// compile_cuda(name, cname, source, params) -> CudaKernel
PyObject* compile_cuda(PyObject* module, PyObject* args);

}  // namespace pyhost::kernels
