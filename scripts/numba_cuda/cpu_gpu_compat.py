"""One function for both sides: ``pricing`` is plain Python, called from the host and from a
kernel (translated for the device as Numba compiles ``@jit`` helpers), next to a
``@cuda.jit(device=True)`` function that also runs on the host; the kernel is launched with
``forall(n)``.

    pyhost run scripts/numba_cuda/cpu_gpu_compat.py
"""
from math import exp, sqrt

import numpy as np

from pyhost import cuda

RATE = 0.03


def pricing(spot, strike, years):
    """A discounted payoff with a square-root time factor."""
    growth = spot * exp(RATE * years)
    payoff = growth - strike if growth > strike else 0.0
    return payoff * exp(-RATE * years) + 0.01 * sqrt(years)


@cuda.jit(device=True)
def clamp(v, lo, hi):
    return min(max(v, lo), hi)


@cuda.jit
def price_all(out, spots, strikes, years):
    i = cuda.grid(1)
    if i < len(spots):
        out[i] = clamp(pricing(spots[i], strikes[i], years[i]), 0.0, 50.0)


def run(n=5_000, seed=0):
    rng = np.random.default_rng(seed)
    spots = cuda.to_device(rng.uniform(50, 150, n))
    strikes = cuda.to_device(rng.uniform(50, 150, n))
    years = cuda.to_device(rng.uniform(0.1, 5, n))
    out = cuda.device_array(n)
    price_all.forall(n)(out, spots, strikes, years)
    host = np.array([clamp(pricing(s, k, y), 0.0, 50.0)
                     for s, k, y in zip(spots, strikes, years)])
    return out.copy_to_host(), host


if __name__ == "__main__":
    print("host pricing(100, 90, 1):", pricing(100.0, 90.0, 1.0))
    dev, host = run()
    print("kernel", dev[:3], "host", host[:3], "max difference", float(np.abs(dev - host).max()))
