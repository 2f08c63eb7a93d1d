"""Globals and closures as compile-time constants, and Numba's type objects: module-level ints,
floats, numpy scalars and tuples of them used inside kernels, ``from math import sin, pi`` and
``math.pi``, casts (``float32(0.)``, ``int32(x)``), ``dtype=float32`` for local and shared
arrays, and signatures given as strings and as type objects (``void(float32[:], ...)``).

    pyhost run scripts/numba_cuda/constants.py
"""
import math
from math import pi, sin

import numpy as np
from numpy import float32 as np_float32

from pyhost import cuda
from pyhost.cuda import float32, int32, void

N_TAPS = 4
WEIGHTS = (0.1, 0.2, 0.3, 0.4)
OFFSET = np.float32(0.5)
LIMIT = np.int64(1_000)
TPB = 64


@cuda.jit(void(float32[:], float32[:]))
def weighted_window(x, out):
    i = cuda.grid(1)
    if i + N_TAPS <= x.shape[0]:
        acc = float32(0.)
        acc += x[i] * WEIGHTS[0]
        acc += x[i + 1] * WEIGHTS[1]
        acc += x[i + 2] * WEIGHTS[2]
        acc += x[i + 3] * WEIGHTS[3]
        out[i] = acc + OFFSET


@cuda.jit("void(float64[:], int32[:])")
def waves(x, bucket):
    i = cuda.grid(1)
    if i < x.shape[0]:
        v = sin(x[i] * pi) + math.cos(x[i] * math.pi)
        x[i] = v
        bucket[i] = min(int32(abs(v) * 100), LIMIT)


def make_scaled_sum(factor):
    """A kernel closing over ``factor`` (frozen when it is compiled, as in Numba)."""
    @cuda.jit
    def scaled_block_sum(x, out):
        tmp = cuda.shared.array(TPB, dtype=float32)
        local = cuda.local.array(2, dtype=float32)
        tid = cuda.threadIdx.x
        i = cuda.grid(1)
        local[0] = x[i] if i < x.shape[0] else np_float32(0)
        local[1] = local[0] * factor
        tmp[tid] = local[1]
        cuda.syncthreads()
        if tid == 0:
            s = float32(0.)
            for k in range(TPB):
                s += tmp[k]
            out[cuda.blockIdx.x] = s
    return scaled_block_sum


def run(n=1000):
    x = np.linspace(0, 1, n, dtype=np.float32)
    out = np.zeros(n - N_TAPS + 1, dtype=np.float32)
    weighted_window[(n + TPB - 1) // TPB, TPB](x, out)
    y = np.linspace(-2, 2, n)
    bucket = np.zeros(n, dtype=np.int32)
    waves[(n + TPB - 1) // TPB, TPB](y, bucket)
    blocks = (n + TPB - 1) // TPB
    sums = np.zeros(blocks, dtype=np.float32)
    make_scaled_sum(np.float32(3.0))[blocks, TPB](x, sums)
    return x, out, y, bucket, sums


def numpy_reference(n=1000):
    x = np.linspace(0, 1, n, dtype=np.float32)
    out = np.zeros(n - N_TAPS + 1, dtype=np.float32)
    for k, w in enumerate(WEIGHTS):
        out += x[k:n - N_TAPS + 1 + k] * np.float32(w)
    out += OFFSET
    y0 = np.linspace(-2, 2, n)
    y = np.sin(y0 * np.pi) + np.cos(y0 * np.pi)
    bucket = np.minimum((np.abs(y) * 100).astype(np.int32), LIMIT)
    pad = np.zeros(-(-n // TPB) * TPB, dtype=np.float32)
    pad[:n] = x * np.float32(3.0)
    return x, out, y, bucket, pad.reshape(-1, TPB).sum(axis=1)


if __name__ == "__main__":
    x, out, y, bucket, sums = run()
    print("window", out[:3], out[-1], "waves", y[:3], "buckets", bucket[:5], bucket.sum())
    print("block sums", sums[:4], sums.sum())
