"""SAXPY and mandelbrot for numba-cuda, the GPU check's peer (imported only when numba-cuda is
installed; numba compiles kernels from their module's source)."""
import numpy as np
from numba import cuda


@cuda.jit
def nb_saxpy(a, x, y):
    i = cuda.grid(1)
    if i < x.shape[0]:
        y[i] = a * x[i] + y[i]


@cuda.jit
def nb_mandelbrot(out, x0, y0, step, max_iter):
    px, py = cuda.grid(2)
    if py < out.shape[0] and px < out.shape[1]:
        cr = x0 + px * step
        ci = y0 + py * step
        zr = 0.0
        zi = 0.0
        n = 0
        while n < max_iter and zr * zr + zi * zi <= 4.0:
            zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
            n += 1
        out[py, px] = n


def run(ncuda, n, w, h, it, timed):
    x = ncuda.to_device(np.ones(n, dtype=np.float32))
    y = ncuda.to_device(np.ones(n, dtype=np.float32))
    img = ncuda.device_array((h, w), dtype=np.int32)
    a = np.float32(2.0)

    def saxpy():
        nb_saxpy[(n + 255) // 256, 256](a, x, y)
        ncuda.synchronize()

    def mandelbrot():
        nb_mandelbrot[((w + 15) // 16, (h + 15) // 16), (16, 16)](img, -2.0, -1.2, 2.8 / w, it)
        ncuda.synchronize()
    return {"numba-cuda saxpy_s": timed(saxpy), "numba-cuda mandelbrot_s": timed(mandelbrot)}
