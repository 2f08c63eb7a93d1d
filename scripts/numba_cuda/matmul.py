"""Matrix multiplication as in Numba's CUDA documentation: the plain kernel (``cuda.grid(2)``)
and the tiled one with ``cuda.shared.array`` and ``cuda.syncthreads()``.

    pyhost run scripts/numba_cuda/matmul.py [n]
"""
import sys

import numpy as np
from numpy import float32

from pyhost import cuda

TPB = 16  # threads per block in each dimension (the tile size)


@cuda.jit
def matmul(A, B, C):
    """Square matrix multiplication C = A * B."""
    i, j = cuda.grid(2)
    if i < C.shape[0] and j < C.shape[1]:
        tmp = 0.
        for k in range(A.shape[1]):
            tmp += A[i, k] * B[k, j]
        C[i, j] = tmp


@cuda.jit
def fast_matmul(A, B, C):
    """The tiled version: each block loads tiles of A and B into shared memory."""
    sA = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
    sB = cuda.shared.array(shape=(TPB, TPB), dtype=float32)

    x, y = cuda.grid(2)

    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    bpg = cuda.gridDim.x    # blocks per grid

    # Each thread computes one element in the result matrix.
    tmp = float32(0.)
    for i in range(bpg):
        # Preload data into shared memory
        sA[ty, tx] = 0
        sB[ty, tx] = 0
        if y < A.shape[0] and (tx + i * TPB) < A.shape[1]:
            sA[ty, tx] = A[y, tx + i * TPB]
        if x < B.shape[1] and (ty + i * TPB) < B.shape[0]:
            sB[ty, tx] = B[ty + i * TPB, x]

        # Wait until all threads finish preloading
        cuda.syncthreads()

        # Computes partial product on the shared memory
        for j in range(TPB):
            tmp += sA[ty, j] * sB[j, tx]

        # Wait until all threads finish computing
        cuda.syncthreads()
    if y < C.shape[0] and x < C.shape[1]:
        C[y, x] = tmp


def run(n=256, shared=False, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.zeros((n, n), dtype=np.float32)
    blocks = ((n + TPB - 1) // TPB, (n + TPB - 1) // TPB)
    (fast_matmul if shared else matmul)[blocks, (TPB, TPB)](a, b, c)
    return a, b, c


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    for shared in (False, True):
        a, b, c = run(n, shared)
        print("shared" if shared else "plain ", "max error:", float(np.abs(c - a @ b).max()))
