"""``pyhost.cuda.random``: Numba's ``numba.cuda.random`` (xoroshiro128+ per thread, seeded by
SplitMix64, each state 2**64 steps after the previous one): same seed, same numbers.

The states are an int64 array of shape (n, 2) (s0, s1 as unsigned bits) in a DeviceNDArray.
"""
import numpy as np

from .._kernels import types as kt
from .._kernels.intrinsics import register
from .._kernels.typing_rules import Val, cast
from ._arrays import DeviceNDArray

__all__ = ["create_xoroshiro128p_states", "init_xoroshiro128p_states",
           "xoroshiro128p_uniform_float32", "xoroshiro128p_uniform_float64",
           "xoroshiro128p_normal_float32", "xoroshiro128p_normal_float64",
           "xoroshiro128p_dtype"]

xoroshiro128p_dtype = np.dtype([("s0", np.uint64), ("s1", np.uint64)], align=True)
_M = (1 << 64) - 1
_JUMP = (0xbeac0467eba5facb, 0xd86b048b86aa9922)


def _splitmix(seed):
    z = (seed + 0x9E3779B97F4A7C15) & _M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M
    return z ^ (z >> 31)


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & _M


def _next(s0, s1):
    r = (s0 + s1) & _M
    s1 ^= s0
    return r, _rotl(s0, 55) ^ s1 ^ ((s1 << 14) & _M), _rotl(s1, 36)


def _jump(s0, s1):
    j0 = j1 = 0
    for word in _JUMP:
        for b in range(64):
            if word >> b & 1:
                j0 ^= s0
                j1 ^= s1
            _, s0, s1 = _next(s0, s1)
    return j0, j1


def _init_states(n, seed, subsequence_start):
    out = np.empty((n, 2), dtype=np.uint64)
    if n < 1:
        return out.view(np.int64)
    z = _splitmix(int(seed) & _M)
    s0 = s1 = z
    for _ in range(int(subsequence_start)):
        s0, s1 = _jump(s0, s1)
    out[0] = (s0, s1)
    for i in range(1, n):
        s0, s1 = _jump(s0, s1)
        out[i] = (s0, s1)
    return out.view(np.int64)


def create_xoroshiro128p_states(n, seed, subsequence_start=0, stream=0):
    """States for ``n`` generators (device array); state i is 2**(64 i) steps ahead."""
    return DeviceNDArray(_init_states(int(n), seed, subsequence_start), is_states=True)


def init_xoroshiro128p_states(states, seed, subsequence_start=0, stream=0):
    states._a[...] = _init_states(states._a.shape[0], seed, subsequence_start)


# ---- Python reference (what the kernel entries compute) ---------------------------------------

def _py_next(states, index):
    a = states._a if hasattr(states, "_a") else states
    s0, s1 = (int(v) & _M for v in a[index])
    r, s0, s1 = _next(s0, s1)
    a[index] = np.array([s0, s1], dtype=np.uint64).view(np.int64)
    return r


def xoroshiro128p_uniform_float64(states, index):
    return (_py_next(states, index) >> 11) * (1.0 / (1 << 53))


def xoroshiro128p_uniform_float32(states, index):
    return float(np.float32(xoroshiro128p_uniform_float64(states, index)))


def xoroshiro128p_normal_float32(states, index):
    u1 = np.float32(xoroshiro128p_uniform_float32(states, index))
    u2 = np.float32(xoroshiro128p_uniform_float32(states, index))
    return float(np.sqrt(np.float32(-2.0) * np.log(u1)) * np.cos(np.float32(2 * np.pi) * u2))


def xoroshiro128p_normal_float64(states, index):
    u1 = xoroshiro128p_uniform_float32(states, index)
    u2 = xoroshiro128p_uniform_float32(states, index)
    return float(np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2))


# ---- kernel entries -----------------------------------------------------------------------------

_PRELUDE = r"""#if PH_CUDA
#define PH_XM(f) f
#else
#define PH_XM(f) __builtin_##f
#endif
// xoroshiro128+ (numba.cuda.random): states are ph_array<ph_i64, 2> of shape (n, 2)
// The call site checks the index first (ph_xoro_ok; a failing kernel body returns), so the
// loop that draws holds no error store and the compiler keeps the state in registers.
template <typename S> PH_FN bool ph_xoro_ok(const S& s, ph_i64 i) {
  return (ph_u64)i < (ph_u64)s.shape[0] && s.shape[1] >= 2;
}
template <bool C, typename S> PH_FN unsigned long long ph_xoro_next(const S& s, int site,
                                                                   int* err, ph_i64 i) {
  if (C && !ph_xoro_ok(s, i)) { ph_fail(err, site); return 0ULL; }
  ph_i64* p = s.data + i * s.shape[1];
  unsigned long long s0 = (unsigned long long)p[0], s1 = (unsigned long long)p[1];
  unsigned long long r = s0 + s1;
  s1 ^= s0;
  p[0] = (ph_i64)(((s0 << 55) | (s0 >> 9)) ^ s1 ^ (s1 << 14));
  p[1] = (ph_i64)((s1 << 36) | (s1 >> 28));
  return r;
}
template <bool C, typename S> PH_FN ph_f64 ph_xoro_u64(const S& s, int site, int* err, ph_i64 i) {
  return (ph_f64)(ph_xoro_next<C>(s, site, err, i) >> 11) * (1.0 / 9007199254740992.0);
}
template <bool C, typename S> PH_FN ph_f32 ph_xoro_u32(const S& s, int site, int* err, ph_i64 i) {
  return (ph_f32)ph_xoro_u64<C>(s, site, err, i);
}
template <bool C, typename S> PH_FN ph_f32 ph_xoro_n32(const S& s, int site, int* err, ph_i64 i) {
  ph_f32 u1 = ph_xoro_u32<C>(s, site, err, i);
  ph_f32 u2 = ph_xoro_u32<C>(s, site, err, i);
  return PH_XM(sqrtf)(-2.0f * PH_XM(logf)(u1)) * PH_XM(cosf)(6.2831855f * u2);
}
template <bool C, typename S> PH_FN ph_f64 ph_xoro_n64(const S& s, int site, int* err, ph_i64 i) {
  ph_f64 u1 = (ph_f64)ph_xoro_u32<C>(s, site, err, i);
  ph_f64 u2 = (ph_f64)ph_xoro_u32<C>(s, site, err, i);
  return PH_XM(sqrt)(-2.0 * PH_XM(log)(u1)) * PH_XM(cos)(6.283185307179586 * u2);
}"""


def _lower(cfn, result, pyname):
    def lower(tr, node, label):
        from ._builtins import _not_on_lanes
        _not_on_lanes(tr, pyname)
        if len(node.args) != 2:
            raise tr.err(f"{pyname}(states, index) takes 2 arguments", node)
        st = tr.expr(node.args[0])
        if st.type != kt.i64[:, :]:
            raise tr.err(f"{pyname}: the first argument must be the states of "
                         f"create_xoroshiro128p_states", node.args[0], pyname)
        idx = tr.expr(node.args[1])
        if not isinstance(idx.type, kt.ScalarType) or not idx.type.is_int:
            raise tr.err(f"{pyname}: the index must be an integer", node.args[1])
        tr.mark_written(st)
        tr.impure = True
        sid = tr.site(node, 1, f"index out of range for '{tr.label(node.args[0])}' in {pyname}")
        checked = "true"
        if tr.kernel:
            idx = tr.force_tmp(idx)
            tr.emit(f"if (!ph_xoro_ok({st.code}, {cast(idx, kt.i64)})) {{ ph_fail(ph_err, "
                    f"{sid}); return; }}")
            checked = "false"
        return Val(f"{cfn}<{checked}>({st.code}, {sid}, ph_err, {cast(idx, kt.i64)})", result,
                   pure=False)
    return lower


for _py, _c, _t in ((xoroshiro128p_uniform_float32, "ph_xoro_u32", kt.f32),
                    (xoroshiro128p_uniform_float64, "ph_xoro_u64", kt.f64),
                    (xoroshiro128p_normal_float32, "ph_xoro_n32", kt.f32),
                    (xoroshiro128p_normal_float64, "ph_xoro_n64", kt.f64)):
    register(_py, _lower(_c, _t, _py.__name__), _PRELUDE, name=_py.__name__)
