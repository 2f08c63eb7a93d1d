"""``@cuda.vectorize`` and ``@cuda.guvectorize`` with signature lists, called on numpy arrays,
device arrays and numbers.

    pyhost run scripts/numba_cuda/vectorize.py
"""
import math

import numpy as np

from pyhost import cuda


@cuda.vectorize(["float32(float32, float32)", "float64(float64, float64)"])
def rel_diff(a, b):
    return abs(a - b) / (abs(a) + abs(b) + 1e-9)


@cuda.vectorize(["float64(float64)"])
def gauss(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


@cuda.guvectorize(["void(float32[:], float32[:])", "void(float64[:], float64[:])"],
                  "(n)->(n)")
def running_mean(x, out):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i]
        out[i] = acc / (i + 1)


@cuda.guvectorize(["void(float64[:, :], float64[:], float64, float64[:])"],
                  "(m,n),(n),()->(m)")
def affine(mat, vec, shift, out):
    for r in range(mat.shape[0]):
        acc = shift
        for c in range(mat.shape[1]):
            acc += mat[r, c] * vec[c]
        out[r] = acc


def run(n=100_000, seed=0):
    rng = np.random.default_rng(seed)
    a32, b32 = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    d = rel_diff(a32, b32)                             # float32 signature
    d64 = rel_diff(cuda.to_device(a32.astype(np.float64)), 0.5)   # device array and a number
    g = gauss(np.linspace(-3, 3, 61))
    series = rng.random((8, 50))
    means = running_mean(series)                       # loops over the 8 rows
    mats, vec = rng.random((16, 5, 3)), rng.random(3)
    aff = affine(mats, vec, 1.5)
    return a32, b32, d, d64, g, series, means, mats, vec, aff


if __name__ == "__main__":
    a32, b32, d, d64, g, series, means, mats, vec, aff = run()
    print("rel_diff", d.dtype, d[:3], "device", type(d64).__name__, d64.copy_to_host()[:3])
    print("gauss", g[28:33])
    print("running mean", means[0, :3], means.shape, "affine", aff.shape, aff[0])
