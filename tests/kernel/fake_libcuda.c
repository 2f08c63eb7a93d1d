/* A stand-in for libcuda.so.1 that exercises pyhost's driver-loading path on machines without
 * an NVIDIA GPU: only cuGetProcAddress_v2 is exported by name, as in the real driver, and every
 * entry point pyhost asks for comes through it.
 *
 * FAKE_CUDA_MODE: 0 (default) cuInit fails with CUDA_ERROR_NO_DEVICE; 1 one "sm_90" device
 * whose memory is host memory and whose launches run nothing; 2 like 1 but launches fail.
 * FAKE_CUDA_LOG: file that receives one line per interesting call. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static int mode(void) {
  const char* m = getenv("FAKE_CUDA_MODE");
  return m ? atoi(m) : 0;
}

static void note(const char* fmt, ...) {
  const char* path = getenv("FAKE_CUDA_LOG");
  if (!path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static CUresult cuInit(unsigned flags) { (void)flags; return mode() >= 1 ? 0 : 100; }
static CUresult cuDriverGetVersion(int* v) { *v = 13000; return 0; }
static CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
static CUresult cuDeviceGet(int* d, int ordinal) { *d = ordinal; return 0; }
static CUresult cuDeviceGetName(char* s, int len, int d) {
  (void)d;
  strncpy(s, "Fake GPU", (size_t)len);
  return 0;
}
static CUresult cuDeviceGetAttribute(int* v, int attr, int d) {
  (void)d;
  *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 4 : 0;
  return 0;
}
static CUresult cuDevicePrimaryCtxRetain(void** ctx, int d) { (void)d; *ctx = (void*)0x1; return 0; }
static CUresult cuCtxSetCurrent(void* ctx) { (void)ctx; return 0; }
static CUresult cuCtxSynchronize(void) { return 0; }
static CUresult cuModuleLoadData(void** m, const void* image) {
  note("module %s", memcmp(image, "\177ELF", 4) == 0 ? "cubin" : "ptx");
  *m = (void*)0x2;
  return 0;
}
static CUresult cuModuleUnload(void* m) { (void)m; return 0; }
static CUresult cuModuleGetFunction(void** f, void* m, const char* name) {
  (void)m;
  note("function %s", name);
  *f = (void*)0x3;
  return 0;
}
static CUresult cuMemAlloc(CUdeviceptr* p, size_t n) {
  *p = (CUdeviceptr)malloc(n);
  note("alloc %zu", n);
  return *p ? 0 : 2;
}
static CUresult cuMemFree(CUdeviceptr p) { free((void*)p); return 0; }
static CUresult cuMemcpyHtoD(CUdeviceptr d, const void* s, size_t n) { memcpy((void*)d, s, n); return 0; }
static CUresult cuMemcpyDtoH(void* d, CUdeviceptr s, size_t n) { memcpy(d, (void*)s, n); return 0; }
static CUresult cuMemsetD8(CUdeviceptr d, unsigned char v, size_t n) { memset((void*)d, v, n); return 0; }
static CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                               unsigned by, unsigned bz, unsigned shared, void* stream,
                               void** params, void** extra) {
  (void)f; (void)gy; (void)gz; (void)by; (void)bz; (void)shared; (void)stream; (void)extra;
  (void)params;
  note("launch grid=%u block=%u", gx, bx);
  return mode() == 2 ? 719 : 0;
}
static CUresult cuGetErrorName(CUresult r, const char** s) {
  *s = r == 100 ? "CUDA_ERROR_NO_DEVICE" : r == 719 ? "CUDA_ERROR_LAUNCH_FAILED" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
static CUresult cuGetErrorString(CUresult r, const char** s) {
  *s = r == 100 ? "no CUDA-capable device is detected" : r == 719 ? "unspecified launch failure"
                                                                  : "unknown error";
  return 0;
}

static const struct { const char* name; void* fn; } kTable[] = {
#define E(n) {#n, (void*)&n}
    E(cuInit), E(cuDriverGetVersion), E(cuDeviceGetCount), E(cuDeviceGet), E(cuDeviceGetName),
    E(cuDeviceGetAttribute), E(cuDevicePrimaryCtxRetain), E(cuCtxSetCurrent),
    E(cuCtxSynchronize), E(cuModuleLoadData), E(cuModuleUnload), E(cuModuleGetFunction),
    E(cuMemAlloc), E(cuMemFree), E(cuMemcpyHtoD), E(cuMemcpyDtoH), E(cuMemsetD8),
    E(cuLaunchKernel), E(cuGetErrorName), E(cuGetErrorString),
#undef E
};

CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version,
                             unsigned long long flags, int* status) {
  (void)version; (void)flags;
  for (size_t i = 0; i < sizeof kTable / sizeof kTable[0]; ++i) {
    if (strcmp(kTable[i].name, symbol) == 0) {
      *pfn = kTable[i].fn;
      if (status) *status = 0;
      return 0;
    }
  }
  *pfn = NULL;
  if (status) *status = 1;
  return 500; /* CUDA_ERROR_NOT_FOUND */
}
