"""The seed's Numba CUDA example (numba/pi.py): Monte Carlo pi with one xoroshiro128+ generator
per thread, unchanged but for the import.

    pyhost run scripts/numba_cuda/pi.py [iterations]
"""
import sys

import numpy as np

from pyhost import cuda
from pyhost.cuda.random import create_xoroshiro128p_states, xoroshiro128p_uniform_float32


@cuda.jit
def compute_pi(rng_states, iterations, out):
    """Find the maximum value in values and store in result[0]"""
    thread_id = cuda.grid(1)

    # Compute pi by drawing random (x, y) points and finding what
    # fraction lie inside a unit circle
    inside = 0
    for i in range(iterations):
        x = xoroshiro128p_uniform_float32(rng_states, thread_id)
        y = xoroshiro128p_uniform_float32(rng_states, thread_id)
        if x ** 2 + y ** 2 <= 1.0:
            inside += 1

    out[thread_id] = 4.0 * inside / iterations


def run(iterations=10000, threads_per_block=64, blocks=24, seed=1):
    rng_states = create_xoroshiro128p_states(threads_per_block * blocks, seed=seed)
    out = np.zeros(threads_per_block * blocks, dtype=np.float32)
    compute_pi[blocks, threads_per_block](rng_states, iterations, out)
    return out


if __name__ == "__main__":
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    out = run(iterations)
    print("pi:", out.mean())
