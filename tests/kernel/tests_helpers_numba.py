"""A Numba ``@jit`` helper called from a ``pyhost.cuda`` kernel (test_cuda_numba_guide.py):
Numba compiles it for the host, pyhost translates its Python for the kernel."""
from math import pi

import numba

from pyhost import cuda


@numba.jit
def business_logic(x, y, z):
    return 4 * z * (2 * x - (4 * y) / 2 * pi)


@cuda.jit
def compute(res, xarr, yarr, zarr):
    tid = cuda.grid(1)
    if tid < len(xarr):
        res[tid] = business_logic(xarr[tid], yarr[tid], zarr[tid])
