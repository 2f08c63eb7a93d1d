"""``from pyhost import cuda``: Numba's CUDA kernel API on pyhost's kernel engine.

``@cuda.jit`` records the Python function; each launch ``k[blocks, threads](...)`` infers a
signature from its arguments (numpy arrays: dtype and ndim; ints: int64, floats: float64),
translates the function with the ``@pyhost.kernel`` engine once per signature and block shape
(compiled kernels are cached as for ``@pyhost.kernel``) and runs it over ``blocks * threads``
indices per dimension: natively on every CPU core, or on the GPU when there is one. The CUDA
builtins (``cuda.grid``, ``cuda.threadIdx.x``, ``cuda.atomic.add``...) are entries of the
intrinsics table (``_builtins.py``).
"""
import numpy as np

from .._kernels import device as _kdev
from .._kernels.errors import KernelError, KernelLaunchError, KernelTypeError  # noqa: F401
from ._builtins import (grid, gridsize, threadIdx, blockIdx, blockDim, gridDim,  # noqa: F401
                        atomic, local, shared, syncthreads, const)
from . import _types
from ._grid import cg  # noqa: F401
from . import _ufuncs  # noqa: F401 - np.sin(x, out)... in kernels
from ._types import (void, float32, float64, double, int32, int64, intp, uint32,  # noqa: F401
                     uint8, boolean, f4, f8, i4, i8, u4, u1, b1)
from ._arrays import DeviceNDArray
from ._dispatcher import (CUDADispatcher, DeviceFunction, jit,  # noqa: F401 - and the classes'
                          _Configured, _Overload, _Overloads)  # __module__ pyhost.cuda

__all__ = ["jit", "grid", "gridsize", "threadIdx", "blockIdx", "blockDim", "gridDim", "atomic",
           "local", "shared", "syncthreads", "const", "cg", "to_device", "device_array",
           "device_array_like", "synchronize", "is_available", "random", "DeviceNDArray",
           "reduce", "vectorize", "guvectorize", *_types.TYPE_NAMES]


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


from . import random  # noqa: E402,F401 - pyhost.cuda.random
from ._reduce import reduce, Reduce  # noqa: E402,F401
from ._vectorize import vectorize, guvectorize  # noqa: E402,F401
