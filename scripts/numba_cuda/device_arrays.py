"""Device arrays as Numba has them: ``cuda.to_device`` of lists and arrays, ``d[i]`` a host
number, iteration, ``len``, ``.shape/.dtype/.size``, slices that are device views a kernel
writes through, ``copy_to_host``, ``np.asarray`` and printing.

    pyhost run scripts/numba_cuda/device_arrays.py
"""
import numpy as np

from pyhost import cuda


@cuda.jit
def triple(a):
    i = cuda.grid(1)
    if i < a.size:
        a[i] *= 3


def run():
    d = cuda.to_device([1, 10, 234, 7])
    triple[1, 32](d)
    first, total = d[0], sum(x for x in d)
    m = cuda.to_device(np.arange(12.0).reshape(3, 4))
    row = m[1]                 # a device view of row 1
    triple[1, 32](row)
    return d, first, total, m, row


if __name__ == "__main__":
    d, first, total, m, row = run()
    print("d", d, "first", first, "type", type(first).__name__, "total", total)
    print("len", len(d), "shape", d.shape, "size", d.size, "dtype", d.dtype)
    print("matrix after tripling row 1:")
    print(np.asarray(m))
    print("row", row.copy_to_host())
