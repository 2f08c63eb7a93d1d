"""A block-wise sum with shared memory and ``cuda.syncthreads()`` (Numba's documentation tree
reduction), then the partial sums added with ``cuda.atomic.add``.

    pyhost run scripts/numba_cuda/shared_reduction.py
"""
import numpy as np

from pyhost import cuda

TPB = 128  # threads per block


@cuda.jit
def block_sum(data, total):
    tid = cuda.threadIdx.x
    i = cuda.grid(1)
    shr = cuda.shared.array(TPB, np.float64)
    shr[tid] = data[i] if i < len(data) else 0.0
    cuda.syncthreads()
    s = 1
    while s < cuda.blockDim.x:
        if tid % (2 * s) == 0:
            shr[tid] += shr[tid + s]
        s *= 2
        cuda.syncthreads()
    if tid == 0:
        cuda.atomic.add(total, 0, shr[0])


def run(n=100_000, seed=0):
    data = np.random.default_rng(seed).random(n)
    total = np.zeros(1)
    block_sum[(n + TPB - 1) // TPB, TPB](data, total)
    return data, total[0]


if __name__ == "__main__":
    data, total = run()
    print("sum", total, "numpy", data.sum())
