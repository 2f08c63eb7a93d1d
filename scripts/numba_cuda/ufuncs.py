"""NumPy ufuncs inside kernels: on whole arrays with the output given (``np.sin(x, r)``,
``np.add(a, b, out)``, run by one thread) and on numbers (``np.sqrt(x[i])``, one element per
thread).

    pyhost run scripts/numba_cuda/ufuncs.py
"""
import numpy as np

from pyhost import cuda


@cuda.jit
def whole_arrays(x, r, a, b, out):
    np.sin(x, r)
    np.add(a, b, out)
    np.multiply(out, 0.5, out)


@cuda.jit
def per_element(x, y, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = np.sqrt(x[i]) + np.exp(-y[i]) * np.cos(x[i]) + np.arctan2(y[i], x[i] + 1.0) + \
            np.maximum(x[i], y[i]) + np.floor(y[i] * 3.0) + np.absolute(y[i] - 0.5)


def run(n=10_000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float32) / 100 - 5
    r = np.zeros_like(x)
    a = rng.random((40, 25))
    b = rng.random((40, 25))
    out = np.zeros_like(a)
    whole_arrays[1, 1](x, r, a, b, out)
    xs, ys = rng.random(n), rng.random(n)
    res = np.zeros(n)
    per_element[(n + 127) // 128, 128](xs, ys, res)
    return x, r, a, b, out, xs, ys, res


def numpy_per_element(x, y):
    return np.sqrt(x) + np.exp(-y) * np.cos(x) + np.arctan2(y, x + 1.0) + np.maximum(x, y) + \
        np.floor(y * 3.0) + np.absolute(y - 0.5)


if __name__ == "__main__":
    x, r, a, b, out, xs, ys, res = run()
    print("sin max error", float(np.abs(r - np.sin(x)).max()))
    print("add", float(out.sum()), "numpy", float(((a + b) * 0.5).sum()))
    print("per element max error", float(np.abs(res - numpy_per_element(xs, ys)).max()))
