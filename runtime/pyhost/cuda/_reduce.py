"""``@cuda.reduce``: a binary function made a reduction over an array (Numba's
``cuda.reduce``). A kernel reduces contiguous chunks of the array in parallel with the function
(one partial result per thread); the partials and ``init`` are then combined with the same
function on the host, as Numba's final step does.
"""
import numpy as np

from ._arrays import DeviceNDArray
from ._builtins import grid
from ._dispatcher import DeviceFunction, jit

PARTS = 1024   # partial results: enough chunks for every core, few to combine on the host


def _partials_kernel(op):
    @jit
    def reduce_partials(a, partial, chunk):
        i = grid(1)
        if i < partial.shape[0]:
            start = i * chunk
            stop = min(start + chunk, a.shape[0])
            acc = a[start]
            for k in range(start + 1, stop):
                acc = op(acc, a[k])
            partial[i] = acc
    # one serial loop per index over its contiguous chunk: SIMD lanes would gather across the
    # chunks (3x slower than the scalar loop)
    reduce_partials._lanes = False
    return reduce_partials


class Reduce:
    """``sum_reduce = cuda.reduce(lambda_or_function)``; ``sum_reduce(arr, init=0)``."""

    def __init__(self, functor):
        self._functor = functor
        self._kernel = _partials_kernel(DeviceFunction(functor))
        self.__name__ = getattr(functor, "__name__", "reduce")
        self.__doc__ = functor.__doc__

    def __call__(self, arr, size=None, res=None, init=0, stream=0):
        a = arr._a if isinstance(arr, DeviceNDArray) else np.asarray(arr)
        a = np.ascontiguousarray(a).reshape(-1)
        if size is not None:
            a = a[:size]
        if a.size == 0:
            total = a.dtype.type(init)
        else:
            parts = min(PARTS, a.size)
            chunk = -(-a.size // parts)
            parts = -(-a.size // chunk)
            partial = np.empty(parts, dtype=a.dtype)
            self._kernel[(parts + 127) // 128, 128](a, partial, chunk)
            total = partial[0]
            for v in partial[1:]:
                total = self._functor(total, v)
            total = a.dtype.type(self._functor(total, a.dtype.type(init)))
        if res is not None:
            res[0] = total
            return None
        return total

    def __repr__(self):
        return f"<pyhost.cuda.reduce {self.__name__}>"


def reduce(functor):
    """``@cuda.reduce``: see ``Reduce``."""
    return Reduce(functor)
