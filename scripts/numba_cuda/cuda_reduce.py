"""``@cuda.reduce``: binary functions made reductions, called on host and device arrays, with
and without ``init``.

    pyhost run scripts/numba_cuda/cuda_reduce.py
"""
import numpy as np

from pyhost import cuda


@cuda.reduce
def sum_reduce(a, b):
    return a + b


@cuda.reduce
def max_reduce(a, b):
    return a if a > b else b


def run(n=1_000_000, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.random(n)
    ints = rng.integers(-1000, 1000, n).astype(np.int32)
    return {
        "sum": sum_reduce(values),
        "sum_init": sum_reduce(values, init=10.0),
        "sum_device": sum_reduce(cuda.to_device(values)),
        "sum_ints": sum_reduce(ints),
        "max_ints": max_reduce(cuda.to_device(ints), init=-5000),
        "sum_small": sum_reduce(np.arange(5.0)),
        "sum_empty": sum_reduce(np.zeros(0), init=3.0),
    }, values, ints


if __name__ == "__main__":
    r, values, ints = run()
    print("sum", r["sum"], "numpy", values.sum())
    print("sum init 10", r["sum_init"], "device", r["sum_device"])
    print("int sum", r["sum_ints"], "numpy", ints.sum(), "max", r["max_ints"], "numpy",
          ints.max())
    print("small", r["sum_small"], "empty", r["sum_empty"])
