"""Scalar and array types of kernel parameters: ``f32 f64 i32 i64 u32 u8 boolean`` and ``f32[:]``.

Light on purpose (no ``ast``/``inspect``): ``pyhost.f32`` must be cheap to touch. A scalar type is
also a callable cast with the kernel's semantics (``pyhost.i32(x)`` wraps to 32 bits,
``pyhost.f32(x)`` rounds to single precision), so the ``python`` reference device runs the same
casts as the generated code.
"""
import struct

__all__ = ["ScalarType", "ArrayType", "f32", "f64", "i32", "i64", "u32", "u8", "boolean",
           "SCALAR_TYPES", "scalar_from_python_type"]


class ScalarType:
    """A scalar kernel type. ``T[:]``, ``T[:, :]``, ``T[:, :, :]`` make array types."""

    __slots__ = ("name", "ctype", "kind", "bits", "formats", "itemsize", "_arrays")

    def __init__(self, name, ctype, kind, bits, formats):
        self.name = name          # "f32"
        self.ctype = ctype        # "ph_f32" in generated code
        self.kind = kind          # "f" float, "i" signed, "u" unsigned, "b" boolean
        self.bits = bits
        self.formats = formats    # struct/buffer format characters accepted for arrays of it
        self.itemsize = max(1, bits // 8)
        self._arrays = {}

    @property
    def is_float(self):
        return self.kind == "f"

    @property
    def is_int(self):
        return self.kind in "iu"

    @property
    def is_bool(self):
        return self.kind == "b"

    def __repr__(self):
        return f"pyhost.{self.name}"

    def __getitem__(self, dims):
        if isinstance(dims, slice):
            dims = (dims,)
        if (not isinstance(dims, tuple) or not 1 <= len(dims) <= 3
                or not all(isinstance(d, slice) and d == slice(None) for d in dims)):
            raise TypeError(f"array annotations are {self.name}[:], {self.name}[:, :] or "
                            f"{self.name}[:, :, :]")
        ndim = len(dims)
        arr = self._arrays.get(ndim)
        if arr is None:
            arr = self._arrays[ndim] = ArrayType(self, ndim)
        return arr

    def __call__(self, value):
        """Cast with the kernel's semantics (used by the python reference device)."""
        if self.kind == "f":
            v = float(value)
            if self.bits == 32:
                try:
                    return struct.unpack("f", struct.pack("f", v))[0]
                except OverflowError:
                    return float("inf") if v > 0 else float("-inf")
            return v
        if self.kind == "b":
            return bool(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"cannot convert {value} to {self.name}")
            value = int(value)
        v = int(value) & ((1 << self.bits) - 1)
        if self.kind == "i" and v >= 1 << (self.bits - 1):
            v -= 1 << self.bits
        return v

    def __reduce__(self):
        return (_scalar_by_name, (self.name,))


class ArrayType:
    """A C-contiguous array of ``dtype`` with ``ndim`` dimensions."""

    __slots__ = ("dtype", "ndim")

    def __init__(self, dtype, ndim):
        self.dtype = dtype
        self.ndim = ndim

    def __repr__(self):
        return f"pyhost.{self.dtype.name}[{', '.join([':'] * self.ndim)}]"

    @property
    def name(self):
        return f"{self.dtype.name}[{', '.join([':'] * self.ndim)}]"

    def __eq__(self, other):
        return isinstance(other, ArrayType) and other.dtype is self.dtype and other.ndim == self.ndim

    def __hash__(self):
        return hash((self.dtype.name, self.ndim))

    def __reduce__(self):
        return (_array_type, (self.dtype.name, self.ndim))


f32 = ScalarType("f32", "ph_f32", "f", 32, "f")
f64 = ScalarType("f64", "ph_f64", "f", 64, "d")
i32 = ScalarType("i32", "ph_i32", "i", 32, "i")
i64 = ScalarType("i64", "ph_i64", "i", 64, "lq")
u32 = ScalarType("u32", "ph_u32", "u", 32, "I")
u8 = ScalarType("u8", "ph_u8", "u", 8, "B")
boolean = ScalarType("boolean", "ph_bool", "b", 8, "?")

SCALAR_TYPES = {t.name: t for t in (f32, f64, i32, i64, u32, u8, boolean)}


def _scalar_by_name(name):
    return SCALAR_TYPES[name]


def _array_type(name, ndim):
    return SCALAR_TYPES[name][(slice(None),) * ndim]


def scalar_from_python_type(tp):
    """``float`` -> f64, ``int`` -> i64, ``bool`` -> boolean, a ScalarType -> itself, else None."""
    if isinstance(tp, (ScalarType, ArrayType)):
        return tp
    return {float: f64, int: i64, bool: boolean}.get(tp)
