"""C++ prelude shared by every generated kernel: one text compiled by NVRTC (CUDA) and by the
system C++ compiler (CPU fallback). Header-free on purpose: NVRTC has no standard headers and a
header-free translation unit compiles in a fraction of the time on the CPU side."""

PRELUDE = r"""// ---- pyhost kernel prelude (compiled by NVRTC for CUDA and by the C++ compiler for CPU) ----
#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define PH_CUDA 1
#define PH_FN static __device__ inline
#pragma nv_diag_suppress 177  // unused prelude functions
#else
#define PH_CUDA 0
#define PH_FN static inline
#endif
// PYHOST_KERNEL_LANES=0 compiles the CPU build with the checked scalar loop only.
#ifndef PH_LANES_WANTED
#define PH_LANES_WANTED 1
#endif
typedef float ph_f32;
typedef double ph_f64;
typedef int ph_i32;
typedef long long ph_i64;
typedef unsigned int ph_u32;
typedef unsigned char ph_u8;
typedef bool ph_bool;
typedef unsigned long long ph_u64;

// A C-contiguous array as the host passes it: data pointer, then the extent of each dimension.
template <typename T, int N> struct ph_array { T* data; ph_i64 shape[N]; };

// Errors (index out of range, division by zero...) record the first failing site; the host
// raises the matching Python exception after the launch.
PH_FN void ph_fail(int* err, int site) {
#if PH_CUDA
  atomicCAS(err, 0, site);
#else
  int expected = 0;
  __atomic_compare_exchange_n(err, &expected, site, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
#endif
}

#if PH_CUDA
#define PH_M1(py, fn) PH_FN ph_f32 ph_##py(ph_f32 x) { return fn##f(x); } \
                     PH_FN ph_f64 ph_##py(ph_f64 x) { return fn(x); }
#define PH_M2(py, fn) PH_FN ph_f32 ph_##py(ph_f32 x, ph_f32 y) { return fn##f(x, y); } \
                     PH_FN ph_f64 ph_##py(ph_f64 x, ph_f64 y) { return fn(x, y); }
PH_FN ph_f32 ph_inf32() { return __int_as_float(0x7f800000); }
PH_FN ph_f64 ph_inf64() { return __longlong_as_double(0x7ff0000000000000ULL); }
PH_FN ph_f32 ph_nan32() { return __int_as_float(0x7fc00000); }
PH_FN ph_f64 ph_nan64() { return __longlong_as_double(0x7ff8000000000000ULL); }
#else
#define PH_M1(py, fn) PH_FN ph_f32 ph_##py(ph_f32 x) { return __builtin_##fn##f(x); } \
                     PH_FN ph_f64 ph_##py(ph_f64 x) { return __builtin_##fn(x); }
#define PH_M2(py, fn) PH_FN ph_f32 ph_##py(ph_f32 x, ph_f32 y) { return __builtin_##fn##f(x, y); } \
                     PH_FN ph_f64 ph_##py(ph_f64 x, ph_f64 y) { return __builtin_##fn(x, y); }
PH_FN ph_f32 ph_inf32() { return __builtin_inff(); }
PH_FN ph_f64 ph_inf64() { return __builtin_inf(); }
PH_FN ph_f32 ph_nan32() { return __builtin_nanf(""); }
PH_FN ph_f64 ph_nan64() { return __builtin_nan(""); }
#endif
PH_M1(sqrt, sqrt) PH_M1(cbrt, cbrt) PH_M1(exp, exp) PH_M1(exp2, exp2) PH_M1(expm1, expm1)
PH_M1(log, log) PH_M1(log2, log2) PH_M1(log10, log10) PH_M1(log1p, log1p)
PH_M1(sin, sin) PH_M1(cos, cos) PH_M1(tan, tan) PH_M1(asin, asin) PH_M1(acos, acos)
PH_M1(atan, atan) PH_M1(sinh, sinh) PH_M1(cosh, cosh) PH_M1(tanh, tanh) PH_M1(asinh, asinh)
PH_M1(acosh, acosh) PH_M1(atanh, atanh) PH_M1(fabs, fabs) PH_M1(floor, floor) PH_M1(ceil, ceil)
PH_M1(trunc, trunc) PH_M1(rint, rint) PH_M1(erf, erf) PH_M1(erfc, erfc) PH_M1(gamma, tgamma)
PH_M1(lgamma, lgamma)
PH_M2(atan2, atan2) PH_M2(pow, pow) PH_M2(fmod, fmod) PH_M2(hypot, hypot)
PH_M2(copysign, copysign)
PH_FN ph_bool ph_isnan(ph_f64 x) { return x != x; }
PH_FN ph_bool ph_isinf(ph_f64 x) { return x == ph_inf64() || x == -ph_inf64(); }
PH_FN ph_bool ph_isfinite(ph_f64 x) { return x == x && !ph_isinf(x); }

// Python's min/max keep the first of equal items; abs of an int.
template <typename T> PH_FN T ph_min(T a, T b) { return b < a ? b : a; }
template <typename T> PH_FN T ph_max(T a, T b) { return b > a ? b : a; }
template <typename T> PH_FN T ph_iabs(T a) { return a < 0 ? (T)(0 - a) : a; }
template <typename T> PH_FN ph_i64 ph_f2i(T x) { return (ph_i64)x; }

// Python's `/` (true division), `//` and `%` (result takes the sign of the divisor), `**`.
template <typename T> PH_FN T ph_div(T a, T b, int site, int* err) {
  if (b == 0) { ph_fail(err, site); return 0; }
  return a / b;
}
template <typename T> PH_FN T ph_floordiv_i(T a, T b, int site, int* err) {
  if (b == 0) { ph_fail(err, site); return 0; }
  if ((T)-1 < (T)0 && b == (T)-1) return (T)(0 - (ph_u64)a);
  T q = a / b;
  T r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) q -= 1;
  return q;
}
template <typename T> PH_FN T ph_mod_i(T a, T b, int site, int* err) {
  if (b == 0) { ph_fail(err, site); return 0; }
  if ((T)-1 < (T)0 && b == (T)-1) return 0;
  T r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
template <typename T> PH_FN T ph_mod_f(T a, T b, int site, int* err) {
  if (b == 0) { ph_fail(err, site); return 0; }
  T m = ph_fmod(a, b);
  if (m != 0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = ph_copysign((T)0, b);
  }
  return m;
}
template <typename T> PH_FN T ph_floordiv_f(T a, T b, int site, int* err) {
  if (b == 0) { ph_fail(err, site); return 0; }
  T m = ph_fmod(a, b);
  T div = (a - m) / b;
  if (m != 0 && ((b < 0) != (m < 0))) div -= 1;
  T fd;
  if (div != 0) {
    fd = ph_floor(div);
    if (div - fd > (T)0.5) fd += 1;
  } else {
    fd = ph_copysign((T)0, a / b);
  }
  return fd;
}
template <typename T> PH_FN T ph_ipow(T base, T e, int site, int* err) {
  if (e < 0) { ph_fail(err, site); return 0; }
  ph_u64 r = 1, b = (ph_u64)base, n = (ph_u64)e;
  while (n) {
    if (n & 1) r *= b;
    n >>= 1;
    b *= b;
  }
  return (T)r;
}
template <typename T> PH_FN T ph_shl(T a, ph_i64 n, int site, int* err) {
  if (n < 0) { ph_fail(err, site); return 0; }
  if (n >= (ph_i64)(sizeof(T) * 8)) return 0;
  return (T)((ph_u64)a << n);
}
template <typename T> PH_FN T ph_shr(T a, ph_i64 n, int site, int* err) {
  if (n < 0) { ph_fail(err, site); return 0; }
  if (n >= (ph_i64)(sizeof(T) * 8)) return a < 0 ? (T)-1 : (T)0;
  return (T)(a >> n);
}

// Element access with Python's negative indices and a bounds check (IndexError on the host).
PH_FN ph_i64 ph_wrap(ph_i64 i, ph_i64 n, int site, int* err) {
  if (i < 0) i += n;
  if ((ph_u64)i >= (ph_u64)n) { ph_fail(err, site); return -1; }
  return i;
}
template <typename T> PH_FN ph_i64 ph_off(const ph_array<T, 1>& a, int site, int* err, ph_i64 i) {
  return ph_wrap(i, a.shape[0], site, err);
}
template <typename T>
PH_FN ph_i64 ph_off(const ph_array<T, 2>& a, int site, int* err, ph_i64 i, ph_i64 j) {
  i = ph_wrap(i, a.shape[0], site, err);
  j = ph_wrap(j, a.shape[1], site, err);
  return (i < 0 || j < 0) ? -1 : i * a.shape[1] + j;
}
template <typename T>
PH_FN ph_i64 ph_off(const ph_array<T, 3>& a, int site, int* err, ph_i64 i, ph_i64 j, ph_i64 k) {
  i = ph_wrap(i, a.shape[0], site, err);
  j = ph_wrap(j, a.shape[1], site, err);
  k = ph_wrap(k, a.shape[2], site, err);
  return (i < 0 || j < 0 || k < 0) ? -1 : (i * a.shape[1] + j) * a.shape[2] + k;
}
template <typename T, int N, typename... I>
PH_FN T ph_ld(const ph_array<T, N>& a, int site, int* err, I... idx) {
  ph_i64 o = ph_off(a, site, err, (ph_i64)idx...);
  return o < 0 ? (T)0 : a.data[o];
}
template <typename T, int N, typename V, typename... I>
PH_FN void ph_st(const ph_array<T, N>& a, int site, int* err, V value, I... idx) {
  ph_i64 o = ph_off(a, site, err, (ph_i64)idx...);
  if (o >= 0) a.data[o] = (T)value;
}

#if PH_CUDA
PH_FN ph_f32 ph_atomic_add_p(ph_f32* p, ph_f32 v) { return atomicAdd(p, v); }
PH_FN ph_f64 ph_atomic_add_p(ph_f64* p, ph_f64 v) { return atomicAdd(p, v); }
PH_FN ph_i32 ph_atomic_add_p(ph_i32* p, ph_i32 v) { return atomicAdd(p, v); }
PH_FN ph_u32 ph_atomic_add_p(ph_u32* p, ph_u32 v) { return atomicAdd(p, v); }
PH_FN ph_i64 ph_atomic_add_p(ph_i64* p, ph_i64 v) {
  return (ph_i64)atomicAdd((unsigned long long*)p, (unsigned long long)v);
}
#else
template <typename T> PH_FN T ph_atomic_add_p(T* p, T v) {
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
template <typename T> PH_FN T ph_atomic_add_fp(T* p, T v) {
  T old;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  T next = old + v;
  while (!__atomic_compare_exchange(p, &old, &next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    next = old + v;
  return old;
}
PH_FN ph_f32 ph_atomic_add_p(ph_f32* p, ph_f32 v) { return ph_atomic_add_fp(p, v); }
PH_FN ph_f64 ph_atomic_add_p(ph_f64* p, ph_f64 v) { return ph_atomic_add_fp(p, v); }
#endif
template <typename T, int N, typename V, typename... I>
PH_FN T ph_atomic_add(const ph_array<T, N>& a, int site, int* err, V value, I... idx) {
  ph_i64 o = ph_off(a, site, err, (ph_i64)idx...);
  return o < 0 ? (T)0 : ph_atomic_add_p(a.data + o, (T)value);
}

// pyhost.random(seed, counter): Philox-4x32-10 keyed by the seed, 53 bits -> [0, 1). Integer
// steps and exact double steps only, so every device gives the same bits.
PH_FN ph_f64 ph_random(ph_i64 seed, ph_i64 counter) {
  ph_u32 c0 = (ph_u32)counter, c1 = (ph_u32)((ph_u64)counter >> 32), c2 = 0, c3 = 0;
  ph_u32 k0 = (ph_u32)seed, k1 = (ph_u32)((ph_u64)seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    ph_u64 p0 = (ph_u64)0xD2511F53u * c0;
    ph_u64 p1 = (ph_u64)0xCD9E8D57u * c2;
    ph_u32 n0 = (ph_u32)(p1 >> 32) ^ c1 ^ k0;
    ph_u32 n2 = (ph_u32)(p0 >> 32) ^ c3 ^ k1;
    c1 = (ph_u32)p1;
    c3 = (ph_u32)p0;
    c0 = n0;
    c2 = n2;
  }
  return ((ph_f64)(c0 >> 5) * 67108864.0 + (ph_f64)(c1 >> 6)) * (1.0 / 9007199254740992.0);
}
// ---- end of prelude ----
"""
