"""``from pyhost import cuda``: Numba's CUDA kernel API on pyhost's kernel engine.

``@cuda.jit`` records the Python function; each launch ``k[blocks, threads](...)`` infers a
signature from its arguments (numpy arrays: dtype and ndim; ints: int64, floats: float64),
translates the function with the ``@pyhost.kernel`` engine once per signature and block shape
(compiled kernels are cached as for ``@pyhost.kernel``) and runs it over ``blocks * threads``
indices per dimension: natively on every CPU core, or on the GPU when there is one. The CUDA
builtins (``cuda.grid``, ``cuda.threadIdx.x``, ``cuda.atomic.add``...) are entries of the
intrinsics table (``_builtins.py``).
"""
import functools
import operator
import threading

import numpy as np

from .._kernels import device as _kdev
from .._kernels import types as kt
from .._kernels.errors import KernelError, KernelLaunchError, KernelTypeError  # noqa: F401
from . import _builtins
from ._builtins import (grid, gridsize, threadIdx, blockIdx, blockDim, gridDim,  # noqa: F401
                        atomic, local, shared, syncthreads, const)
from ._arrays import DeviceNDArray
from ._dtypes import _DTYPES, _SIG_NAMES

__all__ = ["jit", "grid", "gridsize", "threadIdx", "blockIdx", "blockDim", "gridDim", "atomic",
           "local", "shared", "syncthreads", "const", "to_device", "device_array",
           "device_array_like", "synchronize", "is_available", "random", "DeviceNDArray"]

# Numba's xoroshiro states (record dtype s0, s1 uint64): here an int64 array of shape (n, 2).
_STATE_TYPE = kt.i64[:, :]

_lock = threading.Lock()


def is_available():
    """True when a CUDA GPU is used (else the kernels run on the CPU cores)."""
    return _kdev.get_device() == "cuda"


def synchronize():
    """Launches finish before they return: nothing to wait for."""


# ---- arrays ---------------------------------------------------------------------------------

def to_device(obj, stream=0, copy=True, to=None):
    if to is not None:
        to.copy_to_device(obj)
        return to
    if isinstance(obj, DeviceNDArray):
        return DeviceNDArray(obj._a.copy(), obj._is_states)
    return DeviceNDArray(np.array(obj, copy=True, order="C"))


def device_array(shape, dtype=np.float64, strides=None, order="C", stream=0):
    return DeviceNDArray(np.zeros(shape, dtype=dtype, order="C"))


def device_array_like(ary, stream=0):
    return DeviceNDArray(np.zeros_like(np.asarray(ary), order="C"))


def pinned_array(shape, dtype=np.float64, strides=None, order="C"):
    return np.zeros(shape, dtype=dtype, order=order)


mapped_array = pinned_array


# ---- signatures -----------------------------------------------------------------------------

def _type_of(name, value):
    """(kernel type, value as the engine takes it) of one launch argument."""
    if isinstance(value, DeviceNDArray):
        if value._is_states:
            return _STATE_TYPE, value._a
        value = value._a
    if isinstance(value, np.ndarray):
        t = _DTYPES.get(value.dtype)
        if t is None:
            raise KernelLaunchError(f"argument '{name}': arrays of {value.dtype} are not "
                                    f"supported (float32/64, int32/64, uint32, uint8, bool)")
        if not 1 <= value.ndim <= 3:
            raise KernelLaunchError(f"argument '{name}': arrays of 1 to 3 dimensions, got "
                                    f"{value.ndim}")
        if not value.flags.c_contiguous:
            raise KernelLaunchError(f"argument '{name}': the array must be C-contiguous "
                                    f"(np.ascontiguousarray)")
        return t[(slice(None),) * value.ndim], value
    if isinstance(value, (bool, np.bool_)):
        return kt.boolean, bool(value)
    if isinstance(value, (int, np.integer)):
        if isinstance(value, np.integer) and np.dtype(type(value)) in _DTYPES:
            return _DTYPES[np.dtype(type(value))], int(value)
        return kt.i64, int(value)
    if isinstance(value, (float, np.floating)):
        if isinstance(value, np.float32):
            return kt.f32, float(value)
        return kt.f64, float(value)
    raise KernelLaunchError(f"argument '{name}': a {type(value).__name__} cannot be passed to a "
                            f"kernel (numpy arrays, device arrays, ints, floats, bools)")


def _parse_type(text):
    text = text.strip()
    ndim = 0
    if text.endswith("]"):
        base, _, dims = text.partition("[")
        ndim = dims.count(":")
        text = base.strip()
    t = _SIG_NAMES.get(text)
    if t is None:
        raise TypeError(f"unsupported type {text!r} in the signature")
    return t[(slice(None),) * ndim] if ndim else t


def _parse_signature(sig):
    """``"void(float32[:], int64)"`` -> [types]."""
    if not isinstance(sig, str):
        raise TypeError("signatures are strings here, e.g. \"void(float32[:], float32[:])\"")
    sig = sig.strip()
    ret, _, rest = sig.partition("(")
    if ret.strip() not in ("void", "none", "") or not rest.endswith(")"):
        raise TypeError(f"kernel signatures look like \"void(float32[:], int64)\", got {sig!r}")
    rest = rest[:-1].strip()
    out, depth, cur = [], 0, ""
    for c in rest:
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += c == "["
        depth -= c == "]"
        cur += c
    if cur.strip():
        out.append(cur)
    return [_parse_type(p) for p in out]


def _dim3(v, what):
    if isinstance(v, (tuple, list)):
        dims = tuple(v)
    else:
        dims = (v,)
    if not 1 <= len(dims) <= 3:
        raise ValueError(f"{what} has 1 to 3 dimensions, got {len(dims)}")
    try:
        dims = tuple(operator.index(d) for d in dims)
    except TypeError:
        raise TypeError(f"{what} must be ints or tuples of ints") from None
    if any(d < 1 for d in dims):
        raise ValueError(f"{what} must be positive, got {dims}")
    return dims


# ---- kernels --------------------------------------------------------------------------------

class _Configured:
    __slots__ = ("_k", "_griddim", "_blockdim")

    def __init__(self, k, griddim, blockdim):
        self._k, self._griddim, self._blockdim = k, griddim, blockdim

    def __call__(self, *args):
        self._k._launch(self._griddim, self._blockdim, args)


class CUDADispatcher:
    """A ``@cuda.jit`` kernel: launch with ``k[blocks, threads](args)``."""

    def __init__(self, pyfunc, sigs=None):
        self.py_func = pyfunc
        functools.update_wrapper(self, pyfunc)
        self._sigs = [_parse_signature(s) for s in sigs] if sigs else None
        self._compiled = {}
        self._last = None
        if self._sigs:
            # check the function against the subset now, as Numba compiles eagerly
            from .._kernels.source import FunctionSource
            from .._kernels.translator import check_syntax
            src = FunctionSource(pyfunc, "kernel")
            _builtins.normalize(src.tree)
            check_syntax(src)

    def __getitem__(self, config):
        if not isinstance(config, tuple) or len(config) not in (2, 3, 4):
            raise ValueError("launch a kernel with kernel[blocks, threads_per_block](...)")
        griddim = _dim3(config[0], "the grid (blocks)")
        blockdim = _dim3(config[1], "the block (threads per block)")
        return _Configured(self, griddim, blockdim)

    def forall(self, n):
        return self[(n + 127) // 128, 128]

    def __call__(self, *args):
        raise TypeError(f"launch a @cuda.jit kernel with {self.__name__}[blocks, threads](...)")

    def _kernel_for(self, types, griddim, blockdim):
        ndim = max(len(griddim), len(blockdim))
        block = blockdim + (1,) * (3 - len(blockdim))
        key = (tuple(types), ndim, block)
        k = self._compiled.get(key)
        if k is None:
            with _lock:
                k = self._compiled.get(key)
                if k is None:
                    k = _builtins.compile_kernel(self.py_func, list(types), ndim, block)
                    self._compiled[key] = k
        return k

    def _launch(self, griddim, blockdim, args):
        params = self.py_func.__code__.co_varnames[:self.py_func.__code__.co_argcount]
        if len(args) != len(params):
            raise TypeError(f"kernel '{self.__name__}' takes {len(params)} argument(s) "
                            f"({', '.join(params)}), got {len(args)}")
        typed = [_type_of(n, a) for n, a in zip(params, args)]
        types = [t for t, _ in typed]
        values = [v for _, v in typed]
        if self._sigs:
            for sig in self._sigs:
                if len(sig) == len(types) and all(
                        s == t or (isinstance(s, kt.ScalarType) and isinstance(t, kt.ScalarType))
                        for s, t in zip(sig, types)):
                    types = sig
                    break
            else:
                raise KernelLaunchError(
                    f"kernel '{self.__name__}': no signature matches the arguments "
                    f"({', '.join(t.name for t in types)})")
        if _kdev.get_device() == "python":
            raise KernelLaunchError(
                f"kernel '{self.__name__}': @cuda.jit kernels run on the cpu or cuda device "
                f"(PYHOST_DEVICE=python is the reference of @pyhost.kernel only)")
        ndim = max(len(griddim), len(blockdim))
        g = griddim + (1,) * (3 - len(griddim))
        b = blockdim + (1,) * (3 - len(blockdim))
        k = self._kernel_for(types, griddim, blockdim)
        if k._ph_cuda_blocks:   # one index per block, its threads as loops (_blocks.py)
            dims = tuple(g[a] for a in range(ndim))
        else:
            dims = tuple(g[a] * b[a] for a in range(ndim))
        k._launch(dims, tuple(values) + g)
        self._last = k

    @property
    def source(self):
        """The generated C++ of the last launch."""
        return self._last.source if self._last else None

    @property
    def device(self):
        return self._last.device if self._last else None

    def __repr__(self):
        return f"<pyhost.cuda.jit {self.__name__}>"


class DeviceFunction:
    """``@cuda.jit(device=True)``: callable from kernels (a ``@pyhost.func``) and from Python."""

    def __new__(cls, pyfunc):
        from .._kernels.core import Func
        return Func(pyfunc)


def jit(func_or_sig=None, device=False, inline=False, debug=False, opt=True, fastmath=False,
        cache=False, lineinfo=False, **kws):
    """``@cuda.jit``, ``@cuda.jit("void(float32[:])")``, ``@cuda.jit(device=True)``."""
    if callable(func_or_sig) and not isinstance(func_or_sig, str):
        return DeviceFunction(func_or_sig) if device else CUDADispatcher(func_or_sig)
    sigs = None
    if func_or_sig is not None:
        sigs = func_or_sig if isinstance(func_or_sig, (list, tuple)) else [func_or_sig]

    def wrap(fn):
        if device:
            return DeviceFunction(fn)
        return CUDADispatcher(fn, sigs)
    return wrap


from . import random  # noqa: E402,F401 - pyhost.cuda.random
