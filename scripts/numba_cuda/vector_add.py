"""Vector addition, as in Numba's CUDA documentation: ``cuda.grid(1)``, a bounds check, arrays
copied with ``cuda.to_device`` and back with ``copy_to_host``.

    pyhost run scripts/numba_cuda/vector_add.py
"""
import numpy as np

from pyhost import cuda


@cuda.jit
def add_kernel(x, y, out):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = x[i] + y[i]


def run(n=100_000):
    x = np.arange(n, dtype=np.float32)
    y = 2 * x
    d_x, d_y = cuda.to_device(x), cuda.to_device(y)
    d_out = cuda.device_array_like(d_x)
    threads = 128
    blocks = (n + threads - 1) // threads
    add_kernel[blocks, threads](d_x, d_y, d_out)
    cuda.synchronize()
    return x, y, d_out.copy_to_host()


if __name__ == "__main__":
    x, y, out = run()
    print("max error:", float(np.max(np.abs(out - (x + y)))))
