"""Numba-style type objects of ``pyhost.cuda``: ``float32``, ``int32``, ``void``... as Numba's
``numba.types`` spells them, so that code written for ``numba.cuda`` keeps its signatures
(``void(int32[:, ::1])``, a tuple ``(float32[:],)``), its casts (``float32(x)`` in a kernel and
on the host) and its ``dtype=`` arguments (``cuda.shared.array(16, dtype=float32)``).

Each scalar type wraps a kernel type (``_kernels.types``) and a numpy dtype; its arrays
(``float32[:, ::1]``) wrap the kernel array type (C-contiguous, as every kernel array is: the
layout in the subscript is accepted and not checked further).
"""
import numpy as np

from .._kernels import intrinsics as ki
from .._kernels import types as kt


class NumbaScalar:
    """``float32``: a cast (``float32(x)``), a dtype (``.dtype``), ``float32[:]`` an array type,
    ``float32(int32, int32)`` a signature."""

    __slots__ = ("name", "kt", "dtype")

    def __init__(self, name, ktype, dtype):
        self.name, self.kt, self.dtype = name, ktype, np.dtype(dtype)

    def __call__(self, *args):
        if args and all(_is_type(a) for a in args):
            return Signature(self, args)
        if len(args) != 1:
            raise TypeError(f"{self.name}(x) casts one value")
        return self.dtype.type(args[0])

    def __getitem__(self, dims):
        if isinstance(dims, slice):
            dims = (dims,)
        if not isinstance(dims, tuple) or not 1 <= len(dims) <= 3 or not all(
                isinstance(d, slice) and d.start is None and d.stop is None and
                d.step in (None, 1) for d in dims):
            raise TypeError(f"array types are {self.name}[:], {self.name}[:, ::1]... (1 to 3 "
                            f"dimensions)")
        return NumbaArray(self, len(dims))

    def __repr__(self):
        return self.name


class NumbaArray:
    __slots__ = ("dtype_t", "ndim", "kt")

    def __init__(self, scalar, ndim):
        self.dtype_t, self.ndim = scalar, ndim
        self.kt = scalar.kt[(slice(None),) * ndim]

    def __repr__(self):
        return f"{self.dtype_t.name}[{', '.join([':'] * self.ndim)}]"


class _Void:
    name = "void"

    def __call__(self, *args):
        return Signature(None, args)

    def __repr__(self):
        return "void"


class Signature:
    """``void(int32[:], float32)``: the return type (None for void) and the argument types."""

    __slots__ = ("ret", "args")

    def __init__(self, ret, args):
        self.ret, self.args = ret, tuple(args)

    def __repr__(self):
        return f"{self.ret or 'void'}({', '.join(map(repr, self.args))})"


def _is_type(obj):
    return isinstance(obj, (NumbaScalar, NumbaArray))


def to_kernel_type(obj):
    """The kernel type of a Numba-style type object, a kernel type, or None."""
    if isinstance(obj, (NumbaScalar, NumbaArray)):
        return obj.kt
    if isinstance(obj, (kt.ScalarType, kt.ArrayType)):
        return obj
    return None


void = _Void()
float32 = f4 = NumbaScalar("float32", kt.f32, np.float32)
float64 = f8 = double = NumbaScalar("float64", kt.f64, np.float64)
int32 = i4 = NumbaScalar("int32", kt.i32, np.int32)
int64 = i8 = intp = NumbaScalar("int64", kt.i64, np.int64)
uint32 = u4 = NumbaScalar("uint32", kt.u32, np.uint32)
uint8 = u1 = NumbaScalar("uint8", kt.u8, np.uint8)
boolean = b1 = NumbaScalar("boolean", kt.boolean, np.bool_)

TYPE_NAMES = ["void", "float32", "float64", "double", "int32", "int64", "intp", "uint32",
              "uint8", "boolean", "f4", "f8", "i4", "i8", "u4", "u1", "b1"]

# in a kernel each scalar type is a cast, as np.float32(x) is
for _t in (float32, float64, int32, int64, uint32, uint8, boolean):
    ki.register(_t, ki._cast_to(_t.kt, f"{_t.name}(x)"), name=f"cuda.{_t.name}")
