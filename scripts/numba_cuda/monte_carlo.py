"""Monte Carlo integration as in Numba's CUDA documentation (random numbers with xoroshiro128p
states, a device function for the integrand, one partial sum per thread): the mean of f over
[lower, upper] times its width.

    pyhost run scripts/numba_cuda/monte_carlo.py [samples]
"""
import sys

import numpy as np

from pyhost import cuda
from pyhost.cuda.random import create_xoroshiro128p_states, xoroshiro128p_uniform_float32


@cuda.jit(device=True)
def func(x):
    return x ** 2


@cuda.jit
def mc_integrator_kernel(out, rng_states, lower_lim, upper_lim, nsamp_per_thread):
    """Each thread draws nsamp_per_thread samples and stores their sum."""
    gid = cuda.grid(1)
    if gid < out.shape[0]:
        acc = 0.0
        for i in range(nsamp_per_thread):
            sample = xoroshiro128p_uniform_float32(rng_states, gid)
            acc += func(lower_lim + sample * (upper_lim - lower_lim))
        out[gid] = acc


def mc_integrate(lower_lim, upper_lim, nsamps, nthreads=4096, threads_per_block=64, seed=42):
    per_thread = nsamps // nthreads
    out = cuda.device_array(nthreads, dtype=np.float64)
    states = create_xoroshiro128p_states(nthreads, seed=seed)
    blocks = (nthreads + threads_per_block - 1) // threads_per_block
    mc_integrator_kernel[blocks, threads_per_block](out, states, lower_lim, upper_lim,
                                                     per_thread)
    factor = (upper_lim - lower_lim) / (per_thread * nthreads)
    return out.copy_to_host().sum() * factor


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    est = mc_integrate(0.0, 1.0, n)
    print(f"integral of x**2 over [0, 1]: {est:.6f} (exact {1 / 3:.6f}, error "
          f"{abs(est - 1 / 3):.2e})")
