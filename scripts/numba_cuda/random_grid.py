"""A 3-D array of random numbers with grid-stride loops in every dimension, as in Numba's CUDA
random documentation: one generator per thread of a 3-D grid, each thread strides over the array.

    pyhost run scripts/numba_cuda/random_grid.py
"""
import numpy as np

from pyhost import cuda
from pyhost.cuda.random import create_xoroshiro128p_states, xoroshiro128p_uniform_float32


@cuda.jit
def random_3d(arr, rng_states):
    # Per-dimension thread indices and strides
    startx, starty, startz = cuda.grid(3)
    stridex, stridey, stridez = cuda.gridsize(3)

    # Linearized thread index
    tid = (startz * stridey * stridex) + (starty * stridex) + startx

    # Use strided loops over the array to assign a random value to each entry
    for i in range(startz, arr.shape[0], stridez):
        for j in range(starty, arr.shape[1], stridey):
            for k in range(startx, arr.shape[2], stridex):
                arr[i, j, k] = xoroshiro128p_uniform_float32(rng_states, tid)


def run(shape=(37, 50, 65), blocks=(2, 2, 2), threads=(4, 4, 4), seed=1):
    nthreads = int(np.prod(blocks)) * int(np.prod(threads))
    rng_states = create_xoroshiro128p_states(nthreads, seed=seed)
    arr = cuda.device_array(shape, dtype=np.float32)
    random_3d[blocks, threads](arr, rng_states)
    return arr.copy_to_host()


if __name__ == "__main__":
    a = run()
    print("shape", a.shape, "mean", a.mean(), "min", a.min(), "max", a.max())
