"""A Jacobi iteration of the 2-D Laplace equation (a 5-point stencil), one launch per step
with device arrays kept between launches.

    pyhost run scripts/numba_cuda/laplace.py [n] [steps]
"""
import sys

import numpy as np

from pyhost import cuda


@cuda.jit
def laplace_step(u, unew):
    i, j = cuda.grid(2)
    n, m = u.shape
    if 0 < i < n - 1 and 0 < j < m - 1:
        unew[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])


def initial(n):
    u = np.zeros((n, n))
    u[0, :] = 1.0  # a hot edge
    return u


def run(n=128, steps=50):
    d_u = cuda.to_device(initial(n))
    d_v = cuda.to_device(initial(n))
    threads = (16, 16)
    blocks = ((n + 15) // 16, (n + 15) // 16)
    for _ in range(steps):
        laplace_step[blocks, threads](d_u, d_v)
        d_u, d_v = d_v, d_u
    return d_u.copy_to_host()


def numpy_reference(n=128, steps=50):
    u = initial(n)
    for _ in range(steps):
        v = u.copy()
        v[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
        u = v
    return u


if __name__ == "__main__":
    u = run()
    print("max difference to numpy:", float(np.abs(u - numpy_reference()).max()))
