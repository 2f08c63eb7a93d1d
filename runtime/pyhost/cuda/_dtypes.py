"""The kernel types of numpy dtypes and of the type names of signatures: what ``cuda.jit``
(``_dispatcher.py``) and ``cuda.local.array``'s lowering (``_builtins.py``) both read."""
import numpy as np

from .._kernels import types as kt

_DTYPES = {np.dtype(np.float32): kt.f32, np.dtype(np.float64): kt.f64,
           np.dtype(np.int32): kt.i32, np.dtype(np.int64): kt.i64,
           np.dtype(np.uint32): kt.u32, np.dtype(np.uint8): kt.u8,
           np.dtype(np.bool_): kt.boolean}
_SIG_NAMES = {"float32": kt.f32, "float64": kt.f64, "int32": kt.i32, "int64": kt.i64,
              "uint32": kt.u32, "uint8": kt.u8, "boolean": kt.boolean, "bool_": kt.boolean,
              "f4": kt.f32, "f8": kt.f64, "i4": kt.i32, "i8": kt.i64, "u4": kt.u32, "u1": kt.u8,
              "intp": kt.i64, "int_": kt.i64, "double": kt.f64}
