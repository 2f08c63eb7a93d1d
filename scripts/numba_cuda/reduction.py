"""A sum and a maximum with atomics (``cuda.atomic.add``, ``cuda.atomic.max``), a histogram
with ``cuda.atomic.add`` on integer bins, and a ``cuda.local.array`` per thread.

    pyhost run scripts/numba_cuda/reduction.py
"""
import numpy as np

from pyhost import cuda


@cuda.jit
def sum_and_max(values, result):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    acc = 0.0
    for i in range(start, len(values), stride):
        acc += values[i]
        cuda.atomic.max(result, 1, values[i])
    cuda.atomic.add(result, 0, acc)


@cuda.jit
def histogram(x, xmin, xmax, histogram_out):
    """Numba's documentation histogram: each thread bins its own strided elements."""
    nbins = histogram_out.shape[0]
    bin_width = (xmax - xmin) / nbins
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.shape[0], stride):
        bin_number = np.int32((x[i] - xmin) / bin_width)
        if bin_number >= 0 and bin_number < histogram_out.shape[0]:
            cuda.atomic.add(histogram_out, bin_number, 1)


@cuda.jit
def moving_sums(x, out):
    """Each thread sums a window of 4 through a local array."""
    i = cuda.grid(1)
    if i + 4 <= x.shape[0]:
        window = cuda.local.array(4, dtype=np.float64)
        for k in range(4):
            window[k] = x[i + k]
        s = 0.0
        for k in range(4):
            s += window[k]
        out[i] = s


def run(n=100_000, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.random(n)
    result = np.zeros(2)
    sum_and_max[32, 128](values, result)
    hist = np.zeros(10, dtype=np.int64)
    histogram[32, 128](values, 0.0, 1.0, hist)
    sums = np.zeros(n - 3)
    moving_sums[(n + 127) // 128, 128](values, sums)
    return values, result, hist, sums


if __name__ == "__main__":
    values, result, hist, sums = run()
    print("sum", result[0], "numpy", values.sum(), "max", result[1], "numpy", values.max())
    print("histogram", hist, "numpy", np.histogram(values, 10, (0.0, 1.0))[0])
