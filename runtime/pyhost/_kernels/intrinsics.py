"""The table of functions a kernel may call, one entry each (model: NVIDIA Warp's builtins).

An entry (``Intrinsic``) holds everything about one function:
  python    the object kernels call; on the ``python`` reference device it is what runs, so it is
            the reference the native builds are checked against (``pyhost.random`` is defined
            here, ``math.sqrt`` is Python's own)
  lower     typing and lowering of a call, ``lower(tr, node, label) -> Val``: ``tr`` is the
            translator of the calling function (``lowering.FnTranslator``: ``tr.call_args``
            translates and checks the arguments); the entry types the result and returns its C++
  prelude   the C++ the expression calls, added once to the shared prelude (``prelude.py``):
            a text, or a tuple of texts when some are shared with other entries
Adding an intrinsic is adding one entry here: ``lowering.py`` finds it by the called object.

Light on purpose (no ``ast``): ``pyhost.tid``/``random``/``atomic_add`` live here and
``import pyhost`` touches them.
"""
import builtins
import math
import threading

from . import types as kt
from .typing_rules import TupleT, Val, _promote_small, _tname, arith_type, cast

__all__ = ["Intrinsic", "register", "intrinsic", "lookup", "preludes", "tid", "atomic_add", "random", "philox4x32",
           "synchronize"]

# Error sites: kind -> Python exception name raised on the host.
ERR_INDEX, ERR_ZERODIV, ERR_VALUE = 1, 2, 3
ERROR_KINDS = {ERR_INDEX: "IndexError", ERR_ZERODIV: "ZeroDivisionError", ERR_VALUE: "ValueError"}


class Intrinsic:
    __slots__ = ("name", "python", "lower", "prelude")

    def __init__(self, name, python, lower, prelude=""):
        self.name = name
        self.python = python
        self.lower = lower
        self.prelude = prelude


_TABLE = {}     # python object -> Intrinsic
_ORDER = []     # registration order (the prelude's order)


def register(python, lower, prelude="", name=None):
    entry = Intrinsic(name or getattr(python, "__name__", repr(python)), python, lower, prelude)
    _TABLE[python] = entry
    _ORDER.append(entry)
    return entry


def intrinsic(python, prelude="", name=None):
    """Decorator form: ``@intrinsic(math.hypot, prelude=...)`` over the lowering function."""
    def wrap(lower):
        register(python, lower, prelude, name)
        return lower
    return wrap


def lookup(obj):
    """The entry of the called object, or None."""
    try:
        return _TABLE.get(obj)
    except TypeError:  # unhashable: not a function kernels may call
        return None


def entry_count():
    return len(_ORDER)


def preludes():
    """The C++ of every entry, in registration order, each distinct snippet once (an entry's
    prelude is a text or a tuple of texts that other entries may share)."""
    seen, out = set(), []
    for e in _ORDER:
        for snippet in (e.prelude,) if isinstance(e.prelude, str) else e.prelude:
            if snippet and snippet not in seen:
                seen.add(snippet)
                out.append(snippet)
    return "\n".join(out)


# ---- pyhost.tid ------------------------------------------------------------------------------

_state = threading.local()
_M32 = 0xFFFFFFFF


def _set_tid(value):
    _state.tid = value


def tid():
    """Index of this thread in the launch: an int for ``k[n]``, ``(x, y)`` for ``k[w, h]``,
    ``(x, y, z)`` for ``k[w, h, d]``."""
    value = getattr(_state, "tid", None)
    if value is None:
        raise RuntimeError("pyhost.tid() is only meaningful inside a kernel launch")
    return value


def lower_tid(tr, node, label, want=None):
    """``i = tid()`` (1-D) or ``x, y = tid()`` (``want``: the number of names)."""
    if not tr.kernel:
        raise tr.src.reject("pyhost.tid() in a @pyhost.func", node,
                            "pass the index from the kernel")
    if node.args:
        raise tr.err("tid() takes no arguments", node)
    dims = want or 1
    if tr.dims is not None and tr.dims != dims:
        raise tr.err(f"tid() is used as {dims}-D here but as {tr.dims}-D at line "
                     f"{tr.src.lineno(tr.dims_node)}", node, "tid dimensions")
    tr.dims, tr.dims_node = dims, node
    if dims == 1:
        return Val("ph_t0", kt.i64, simple=True)
    elts = [Val(f"ph_t{k}", kt.i64, simple=True) for k in range(dims)]
    return Val(None, TupleT([kt.i64] * dims), elts=elts)


register(tid, lower_tid)


def is_tid_call(call, resolve):
    """Whether the call ``call`` (an ast.Call) gives the launch index as ``tid()`` does: ``tid()``
    itself, or a function whose ``_kernel_tid_alias(call)`` says so (``pyhost.cuda.grid(n)``).
    The direct loop and the lanes use it to find the names that hold the launch index."""
    try:
        obj = resolve(call.func)
    except Exception:  # noqa: BLE001 - not a call of a known function
        return False
    if obj is tid:
        return not call.args
    alias = getattr(obj, "_kernel_tid_alias", None)
    return bool(alias is not None and alias(call))


# ---- pyhost.atomic_add -----------------------------------------------------------------------

def atomic_add(array, index, value):
    """``array[index] += value`` as one indivisible step; returns the value before the add."""
    old = array[index]
    array[index] = old + value
    return old


_ATOMIC_PRELUDE = r"""#if PH_CUDA
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
// The element's offset comes from ph_off (the prelude's arrays), found when this is instantiated.
template <typename T, int N, typename V, typename... I>
PH_FN T ph_atomic_add(const ph_array<T, N>& a, int site, int* err, V value, I... idx) {
  ph_i64 o = ph_off(a, site, err, (ph_i64)idx...);
  return o < 0 ? (T)0 : ph_atomic_add_p(a.data + o, (T)value);
}"""


@intrinsic(atomic_add, prelude=_ATOMIC_PRELUDE)
def lower_atomic_add(tr, node, label):
    if len(node.args) != 3:
        raise tr.err("atomic_add(array, index, value) takes 3 arguments", node)
    arr = tr.expr(node.args[0])
    if not isinstance(arr.type, kt.ArrayType):
        raise tr.err(f"atomic_add: first argument must be an array, got "
                     f"{_tname(arr.type)}", node.args[0])
    dt = arr.type.dtype
    if dt not in (kt.f32, kt.f64, kt.i32, kt.u32, kt.i64):
        raise tr.err(f"atomic_add on {dt.name} arrays is not supported (use f32, f64, "
                     f"i32, u32 or i64)", node, "atomic_add type")
    inode = node.args[1]
    index = tr.expr(inode)
    idx = index.elts if isinstance(index.type, TupleT) else [index]
    if len(idx) != arr.type.ndim:
        raise tr.err(f"atomic_add: the array has {arr.type.ndim} dimension(s) and needs "
                     f"{arr.type.ndim} index(es), got {len(idx)}", inode)
    for i in idx:
        if not isinstance(i.type, kt.ScalarType) or not (i.type.is_int or i.type.is_bool):
            raise tr.err(f"array indices must be integers, not {_tname(i.type)}", inode)
    value = tr.expr(node.args[2])
    if not isinstance(value.type, kt.ScalarType):
        raise tr.err("atomic_add: value must be a number", node.args[2])
    if not (all(i.pure for i in idx) and value.pure):
        idx = [tr.force_tmp(i) for i in idx]
        value = tr.force_tmp(value)
    tr.mark_written(arr)
    tr.impure = True
    sid = tr.site(node, ERR_INDEX,
                  f"index out of range for '{tr.label(node.args[0])}' in atomic_add")
    args = ", ".join(cast(i, kt.i64) if i.const is not None else i.code for i in idx)
    return Val(f"ph_atomic_add({arr.code}, {sid}, ph_err, {cast(value, dt)}, {args})", dt,
               pure=False)


# ---- pyhost.random ---------------------------------------------------------------------------

def philox4x32(counter, key):
    """Philox-4x32-10 (Salmon et al., SC'11): 4 counter words and 2 key words -> 4 words."""
    c0, c1, c2, c3 = (w & _M32 for w in counter)
    k0, k1 = (w & _M32 for w in key)
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & _M32
            k1 = (k1 + 0xBB67AE85) & _M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & _M32, (p0 >> 32) ^ c3 ^ k1, p0 & _M32)
    return c0, c1, c2, c3


def random(seed, counter):
    """A uniform float in [0, 1) with 53 random bits, a pure function of (seed, counter).

    Philox-4x32-10 keyed by the 64-bit seed over the 64-bit counter; every device computes the
    same bits, so a Monte Carlo kernel gives the same result on CUDA, CPU and the reference.
    """
    seed = int(seed)
    counter = int(counter)
    x0, x1, _, _ = philox4x32((counter & _M32, (counter >> 32) & _M32, 0, 0),
                              (seed & _M32, (seed >> 32) & _M32))
    return ((x0 >> 5) * 67108864.0 + (x1 >> 6)) * (1.0 / 9007199254740992.0)


_RANDOM_PRELUDE = r"""// pyhost.random(seed, counter): Philox-4x32-10 keyed by the seed, 53 bits -> [0, 1). Integer
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
}"""


@intrinsic(random, prelude=_RANDOM_PRELUDE)
def lower_random(tr, node, label):
    args = tr.call_args(node, 2, "random(seed, counter)")
    for a, n in zip(args, node.args):
        if not (a.type.is_int or a.type.is_bool):
            raise tr.err(f"random(seed, counter) takes integers, got {_tname(a.type)}", n)
    return Val(f"ph_random({cast(args[0], kt.i64)}, {cast(args[1], kt.i64)})", kt.f64)


def synchronize():
    """Wait until every launch in flight has finished (launches are synchronous today)."""
    return None


# ---- casts: pyhost.f32(x) ..., int(x), float(x), bool(x), round(x) -------------------------

def _cast_to(t, sig):
    def lower(tr, node, label):
        (v,) = tr.call_args(node, 1, sig or f"{label}(x)")
        return tr.convert(v, t, node)
    return lower


for _t in kt.SCALAR_TYPES.values():
    register(_t, _cast_to(_t, None), name=_t.name)
register(builtins.int, _cast_to(kt.i64, "int(x)"))
register(builtins.float, _cast_to(kt.f64, "float(x)"))
register(builtins.bool, _cast_to(kt.boolean, "bool(x)"))


@intrinsic(builtins.round, prelude="PH_M1(rint, rint)")
def lower_round(tr, node, label):
    (v,) = tr.call_args(node, 1, "round(x)")
    if v.type.is_float:
        return Val(f"ph_f2i(ph_rint({v.code}))", kt.i64, pure=v.pure)
    return tr.convert(v, kt.i64, node)


# ---- abs, min, max, len ----------------------------------------------------------------------

_MINMAX_PRELUDE = """// Python's min/max keep the first of equal items; abs of an int.
template <typename T> PH_FN T ph_min(T a, T b) { return b < a ? b : a; }
template <typename T> PH_FN T ph_max(T a, T b) { return b > a ? b : a; }
template <typename T> PH_FN T ph_iabs(T a) { return a < 0 ? (T)(0 - a) : a; }"""


@intrinsic(builtins.abs, prelude=("PH_M1(fabs, fabs)", _MINMAX_PRELUDE))
def lower_abs(tr, node, label):
    (v,) = tr.call_args(node, 1, "abs(x)")
    if v.type.is_float:
        return Val(f"ph_fabs({v.code})", v.type, pure=v.pure)
    t = _promote_small(v.type)
    if v.const is not None:
        return tr.object_value(abs(v.const), node)
    return Val(f"ph_iabs({cast(v, t)})", t, pure=v.pure, weak=v.weak)


def _lower_min_max(fn):
    def lower(tr, node, label):
        if len(node.args) < 2:
            raise tr.err(f"{label}() in a kernel takes two or more numbers", node,
                         f"{label}() of an iterable")
        args = tr.call_args(node, len(node.args), label)
        acc = args[0]
        for v in args[1:]:
            t, weak = arith_type(acc, v)
            if acc.type.is_bool and v.type.is_bool:
                t = kt.boolean
            acc = Val(f"{fn}<{t.ctype}>({cast(acc, t)}, {cast(v, t)})", t,
                      pure=acc.pure and v.pure, weak=weak)
        return acc
    return lower


register(builtins.min, _lower_min_max("ph_min"), _MINMAX_PRELUDE)
register(builtins.max, _lower_min_max("ph_max"), _MINMAX_PRELUDE)


@intrinsic(builtins.len)
def lower_len(tr, node, label):
    (v,) = tr.call_args(node, 1, "len(x)", allow_arrays=True)
    if not isinstance(v.type, kt.ArrayType):
        raise tr.err(f"len() of a {_tname(v.type)}", node)
    return Val(f"{v.code}.shape[0]", kt.i64, simple=True)


@intrinsic(builtins.range)
def lower_range(tr, node, label):
    raise tr.src.reject("range() outside a for loop", node)


# ---- math ------------------------------------------------------------------------------------

def float_type(*vals):
    """The float type of a math call: the join of the typed (non-literal) arguments, ints as f64."""
    strong = [v.type for v in vals if not v.weak]
    t = None
    for s in strong:
        s = s if s.is_float else kt.f64
        if t is None:
            t = s
        else:
            t = kt.f64 if kt.f64 in (t, s) else kt.f32
    return t or kt.f64


def _math(fn, cname, arity, result, cfn=None):
    """math.<fn> as ph_<cname>: float -> float (f32 stays f32), -> int (floor...), -> bool."""
    py = cname[3:]
    macro = "PH_M1" if arity == 1 else "PH_M2"
    prelude = f"{macro}({py}, {cfn or py})" if result != "bool" else ""

    def lower(tr, node, label):
        args = tr.call_args(node, arity, f"{label}()")
        if result == "int":
            (v,) = args
            if not v.type.is_float:
                return tr.convert(v, kt.i64, node)
            return Val(f"ph_f2i({cname}({v.code}))", kt.i64, pure=v.pure)
        if result == "bool":
            return Val(f"{cname}((ph_f64){args[0].code})", kt.boolean, pure=args[0].pure)
        t = float_type(*args)
        return Val(f"{cname}({', '.join(cast(a, t) for a in args)})", t,
                   pure=all(a.pure for a in args))
    register(fn, lower, prelude)


for _fn, _c, _n, _r, _cfn in [
        (math.sqrt, "ph_sqrt", 1, "float", None), (getattr(math, "cbrt", None), "ph_cbrt", 1,
                                                    "float", None),
        (math.exp, "ph_exp", 1, "float", None), (getattr(math, "exp2", None), "ph_exp2", 1,
                                                 "float", None),
        (math.expm1, "ph_expm1", 1, "float", None), (math.log2, "ph_log2", 1, "float", None),
        (math.log10, "ph_log10", 1, "float", None), (math.log1p, "ph_log1p", 1, "float", None),
        (math.sin, "ph_sin", 1, "float", None), (math.cos, "ph_cos", 1, "float", None),
        (math.tan, "ph_tan", 1, "float", None), (math.asin, "ph_asin", 1, "float", None),
        (math.acos, "ph_acos", 1, "float", None), (math.atan, "ph_atan", 1, "float", None),
        (math.sinh, "ph_sinh", 1, "float", None), (math.cosh, "ph_cosh", 1, "float", None),
        (math.tanh, "ph_tanh", 1, "float", None), (math.asinh, "ph_asinh", 1, "float", None),
        (math.acosh, "ph_acosh", 1, "float", None), (math.atanh, "ph_atanh", 1, "float", None),
        (math.fabs, "ph_fabs", 1, "float", None), (math.erf, "ph_erf", 1, "float", None),
        (math.erfc, "ph_erfc", 1, "float", None), (math.gamma, "ph_gamma", 1, "float", "tgamma"),
        (math.lgamma, "ph_lgamma", 1, "float", None), (math.atan2, "ph_atan2", 2, "float", None),
        (math.pow, "ph_pow", 2, "float", None), (math.fmod, "ph_fmod", 2, "float", None),
        (math.copysign, "ph_copysign", 2, "float", None),
        (math.floor, "ph_floor", 1, "int", None), (math.ceil, "ph_ceil", 1, "int", None),
        (math.trunc, "ph_trunc", 1, "int", None), (math.isnan, "ph_isnan", 1, "bool", None),
        (math.isinf, "ph_isinf", 1, "bool", None), (math.isfinite, "ph_isfinite", 1, "bool",
                                                    None)]:
    if _fn is not None:
        _math(_fn, _c, _n, _r, _cfn)
    else:  # this Python lacks it; kernels cannot call it, yet the lanes prelude names it
        _ORDER.append(Intrinsic(_c, None, None, f"PH_M1({_c[3:]}, {_c[3:]})"))


@intrinsic(math.log, prelude="PH_M1(log, log)")
def lower_log(tr, node, label):
    if len(node.args) == 2:
        x, base = tr.call_args(node, 2, "log(x, base)")
        t = float_type(x, base)
        return Val(f"(ph_log({cast(x, t)}) / ph_log({cast(base, t)}))", t,
                   pure=x.pure and base.pure)
    (x,) = tr.call_args(node, 1, "log(x)")
    t = float_type(x)
    return Val(f"ph_log({cast(x, t)})", t, pure=x.pure)


@intrinsic(math.hypot, prelude="PH_M2(hypot, hypot)")
def lower_hypot(tr, node, label):
    args = tr.call_args(node, 2, "hypot(x, y)")
    t = float_type(*args)
    return Val(f"ph_hypot({cast(args[0], t)}, {cast(args[1], t)})", t,
               pure=all(a.pure for a in args))


_CLASSIFY_PRELUDE = """PH_FN ph_bool ph_isnan(ph_f64 x) { return x != x; }
PH_FN ph_bool ph_isinf(ph_f64 x) { return x == ph_inf64() || x == -ph_inf64(); }
PH_FN ph_bool ph_isfinite(ph_f64 x) { return x == x && !ph_isinf(x); }"""
for _fn in (math.isnan, math.isinf, math.isfinite):
    _TABLE[_fn].prelude = _CLASSIFY_PRELUDE
