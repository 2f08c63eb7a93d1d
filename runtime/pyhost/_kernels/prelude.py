"""C++ prelude shared by every generated kernel: one text compiled by NVRTC (CUDA) and by the
system C++ compiler (CPU fallback). Header-free on purpose: NVRTC has no standard headers and a
header-free translation unit compiles in a fraction of the time on the CPU side.

The prelude is the head (types, the math macros, errors), the C++ of every intrinsic (each
entry of ``intrinsics.py`` brings its own) and the tail (Python's arithmetic, array access).
"""
from .intrinsics import entry_count, preludes

PRELUDE_HEAD = r"""// ---- pyhost kernel prelude (compiled by NVRTC for CUDA and by the C++ compiler for CPU) ----
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
"""

PRELUDE_TAIL = r"""template <typename T> PH_FN ph_i64 ph_f2i(T x) { return (ph_i64)x; }

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

// ---- end of prelude ----
"""


_cache = (None, "")


def full_prelude():
    """The whole prelude (the head, every intrinsic's C++, the tail); rebuilt when an entry was
    added to the intrinsics table since the last call."""
    global _cache
    count = entry_count()
    if _cache[0] != count:
        _cache = (count, PRELUDE_HEAD + "\n" + preludes() + "\n" + PRELUDE_TAIL)
    return _cache[1]
