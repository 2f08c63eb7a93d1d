"""Typing of kernel values: what an expression's C++ code, type and provenance are (``Val``), how
types join and how literals adopt the other operand's type, and C++ constants and casts.

Light on purpose (no ``ast``): the intrinsics table (``intrinsics.py``) builds on it and is
imported by ``pyhost.random`` & co.

Rules: parameters are annotated; locals take the join of everything assigned to them (found by
re-running the translation until the types stop changing). Number literals are "weak": they take
the type of the other operand (``2.0 * x`` stays f32 for an f32 ``x``); otherwise int and float
mix like C (``i * x`` is f32 for an f32 ``x``), ``int / int`` is f64 as in Python.
"""
import math

from . import types as kt

class TupleT:
    __slots__ = ("elts",)

    def __init__(self, elts):
        self.elts = tuple(elts)

    @property
    def name(self):
        return "tuple"


class TypeAcc:
    """The type of a variable (or a func's result) from everything assigned to it: the join of
    the typed values; literals only widen an int to f64 or stand alone (i64 / f64)."""

    __slots__ = ("strong", "weak")

    def __init__(self):
        self.strong = None
        self.weak = set()

    def add(self, v):
        if v.weak:
            self.weak.add(v.type)
        else:
            self.strong = v.type if self.strong is None else join_types(self.strong, v.type)

    @property
    def type(self):
        if self.strong is None:
            return kt.f64 if kt.f64 in self.weak else kt.i64
        if self.strong.is_float or not any(w.is_float for w in self.weak):
            return self.strong
        return kt.f64


class Val:
    """A translated expression: C++ code, its type, and what we know about it."""

    __slots__ = ("code", "type", "weak", "pure", "const", "simple", "elts", "origin")

    def __init__(self, code, typ, *, weak=False, pure=True, const=None, simple=False, elts=None,
                 origin=frozenset()):
        self.code = code
        self.type = typ
        self.weak = weak          # a number literal: adopts the other operand's type
        self.pure = pure          # no side effects (no calls that write memory)
        self.const = const        # python value of a literal
        self.simple = simple      # a name or literal: can be repeated without a temp
        self.elts = elts          # for tuple values: list of Val
        self.origin = origin      # for arrays: which kernel parameters it may alias


def _tname(t):
    return t.name if t is not None else "?"


def _promote_small(t):
    return kt.i32 if t in (kt.u8, kt.boolean) else t


def join_types(a, b):
    """Type of an arithmetic result or of a variable assigned both."""
    if a is b:
        return a
    if a.is_float or b.is_float:
        if a.is_float and b.is_float:
            return kt.f64 if kt.f64 in (a, b) else kt.f32
        return a if a.is_float else b
    a, b = _promote_small(a), _promote_small(b)
    if a is b:
        return a
    return kt.i64


def _fits(value, t):
    if not isinstance(value, int) or isinstance(value, bool) or not t.is_int:
        return True
    if t.kind == "u":
        return 0 <= value < (1 << t.bits)
    return -(1 << (t.bits - 1)) <= value < (1 << (t.bits - 1))


def _adopt(weak, strong):
    t = strong.type
    if weak.type.is_float and not t.is_float:
        return kt.f64
    t = _promote_small(t)
    if not _fits(weak.const, t):  # a literal the other side's type cannot hold: widen
        return kt.i64
    return t


def arith_type(a, b):
    """(type, weak) of ``a op b`` for numbers, literals adopting the other side's type."""
    if a.weak and not b.weak:
        return _adopt(a, b), False
    if b.weak and not a.weak:
        return _adopt(b, a), False
    if a.type is b.type and a.type not in (kt.u8, kt.boolean):
        return a.type, a.weak and b.weak
    return join_types(_promote_small(a.type), _promote_small(b.type)), a.weak and b.weak



def boolop_type(left, right):
    """The type of `left and/or right` when it is not a plain boolean: the operands' arithmetic
    type, or, for a bool with a number, that number's (small ints promoted)."""
    if left.type.is_bool and right.type.is_bool:
        return kt.boolean
    if left.type.is_bool or right.type.is_bool:
        other = right.type if left.type.is_bool else left.type
        return _promote_small(other) if not other.is_float else other
    return arith_type(left, right)[0]

def render_const(value, t):
    if t.is_bool:
        return "true" if value else "false"
    if t.is_float:
        value = float(value)
        if value != value:
            return "ph_nan32()" if t is kt.f32 else "ph_nan64()"
        if value in (math.inf, -math.inf):
            s = "ph_inf32()" if t is kt.f32 else "ph_inf64()"
            return s if value > 0 else f"(-{s})"
        text = repr(value)
        if "e" not in text and "." not in text:
            text += ".0"
        if t is kt.f32:
            return f"{text}f" if value >= 0 else f"({text}f)"
        return text if value >= 0 else f"({text})"
    value = int(value)
    if t is kt.i64:
        if value == -(1 << 63):
            return "(-9223372036854775807LL - 1)"
        return f"{value}LL" if value >= 0 else f"({value}LL)"
    if t is kt.u32:
        return f"{value & 0xFFFFFFFF}u"
    if t is kt.u8:
        return f"(ph_u8){value & 0xFF}"
    if t is kt.i32 and value == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(value) if value >= 0 else f"({value})"


def cast(v, t):
    """C++ code of ``v`` converted to type ``t``."""
    if isinstance(t, kt.ArrayType):
        return v.code
    if v.const is not None and not isinstance(v.const, tuple):
        if t.is_int and isinstance(v.const, float):
            return f"(({t.ctype}){render_const(v.const, v.type)})"
        return render_const(v.const, t)
    if v.type is t:
        return v.code
    if t.is_bool:
        return f"({v.code} != 0)"
    if t.is_int and v.type.is_float:
        return f"(({t.ctype})ph_f2i({v.code}))" if t is not kt.i64 else f"ph_f2i({v.code})"
    return f"(({t.ctype}){v.code})"


def ctype(t):
    if isinstance(t, kt.ArrayType):
        return f"ph_array<{t.dtype.ctype}, {t.ndim}>"
    return t.ctype


# C++ spelling of names: a Python name that is a C++ keyword or could clash with the prelude's
# ph_ names gets a prefix.
CPP_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export extern
false float for friend goto if inline int long mutable namespace new noexcept not not_eq nullptr
operator or or_eq private protected public register reinterpret_cast requires return short signed
sizeof static static_assert static_cast struct switch template this thread_local throw true try
typedef typeid typename union unsigned using virtual void volatile wchar_t while xor xor_eq
main NULL signbit isnan isinf isfinite min max abs
""".split())


def mangle(name):
    if name in CPP_KEYWORDS or name.startswith(("ph_", "_")):
        return f"ph_v_{name}"
    return name
