"""Shared-memory tree reductions whose barriers sit inside branches every thread of a block
takes alike: ``cuda.syncthreads()`` in a ``while`` and a ``for`` whose conditions are the same
for the whole block, after an ``if tid < s:`` step that only some threads take, and in an
``if`` that tests only block-uniform values (the block's index, an argument).

    pyhost run scripts/numba_cuda/tree_reduction.py
"""
import numpy as np

from pyhost import cuda

TPB = 256      # threads per block (a power of two)
LOG_TPB = 8


@cuda.jit
def block_sums_while(data, partial):
    """Halving strides: ``while s > 0`` with one barrier per step."""
    tid = cuda.threadIdx.x
    i = cuda.grid(1)
    shr = cuda.shared.array(TPB, np.float64)
    shr[tid] = data[i] if i < data.shape[0] else 0.0
    cuda.syncthreads()
    s = cuda.blockDim.x // 2
    while s > 0:
        if tid < s:
            shr[tid] += shr[tid + s]
        cuda.syncthreads()
        s //= 2
    if tid == 0:
        partial[cuda.blockIdx.x] = shr[0]


@cuda.jit
def block_sums_for(data, partial, scale):
    """The same with a ``for`` over the steps, and a barrier inside an ``if`` on an argument and
    the block index (the same for every thread of a block): blocks past the data skip the work,
    ``scale`` != 1 rescales through shared memory first."""
    tid = cuda.threadIdx.x
    i = cuda.grid(1)
    shr = cuda.shared.array(TPB, np.float64)
    shr[tid] = data[i] if i < data.shape[0] else 0.0
    cuda.syncthreads()
    if scale != 1.0:
        shr[tid] = shr[tid] * scale
        cuda.syncthreads()
    if cuda.blockIdx.x * cuda.blockDim.x < data.shape[0]:
        for step in range(LOG_TPB):
            s = TPB >> (step + 1)
            if tid < s:
                shr[tid] += shr[tid + s]
            cuda.syncthreads()
    if tid == 0:
        partial[cuda.blockIdx.x] = shr[0]


def run(n=1_000_003, seed=0, extra_blocks=2):
    data = np.random.default_rng(seed).random(n)
    blocks = (n + TPB - 1) // TPB
    p1 = np.zeros(blocks)
    block_sums_while[blocks, TPB](data, p1)
    p2 = np.zeros(blocks + extra_blocks)
    block_sums_for[blocks + extra_blocks, TPB](cuda.to_device(data), p2, 2.0)
    return data, p1, p2


def numpy_reference(data):
    pad = np.zeros(-(-data.size // TPB) * TPB)
    pad[:data.size] = data
    return pad.reshape(-1, TPB).sum(axis=1)


if __name__ == "__main__":
    data, p1, p2 = run()
    print("sum", p1.sum(), "numpy", data.sum())
    print("scaled sum", p2.sum(), "numpy", 2 * data.sum())
