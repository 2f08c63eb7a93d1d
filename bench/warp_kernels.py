"""The benchmark's kernels written for NVIDIA Warp (run on its CPU device by kernels_bench.py).

Warp compiles kernels from their module's source, so they live at module level here; this module
is imported only when warp-lang is installed. Monte Carlo pi uses Warp's own generator
(wp.rand_init / wp.randf, PCG), not pyhost's Philox: the work per sample differs.
"""
import numpy as np
import warp as wp


@wp.kernel
def wp_saxpy(a: wp.float32, x: wp.array(dtype=wp.float32), y: wp.array(dtype=wp.float32)):
    i = wp.tid()
    y[i] = a * x[i] + y[i]


@wp.kernel
def wp_mandelbrot(out: wp.array2d(dtype=wp.int32), x0: wp.float64, y0: wp.float64,
                  step: wp.float64, max_iter: wp.int32):
    px, py = wp.tid()
    cr = x0 + wp.float64(px) * step
    ci = y0 + wp.float64(py) * step
    zr = wp.float64(0.0)
    zi = wp.float64(0.0)
    four = wp.float64(4.0)
    two = wp.float64(2.0)
    n = wp.int32(0)
    while n < max_iter and zr * zr + zi * zi <= four:
        t = zr * zr - zi * zi + cr
        zi = two * zr * zi + ci
        zr = t
        n += 1
    out[py, px] = n


@wp.kernel
def wp_mc_pi(hits: wp.array(dtype=wp.int64), seed: wp.int32, samples: wp.int32):
    t = wp.tid()
    state = wp.rand_init(seed, t)
    inside = int(0)
    for k in range(samples):
        x = wp.randf(state)
        y = wp.randf(state)
        if x * x + y * y <= 1.0:
            inside += 1
    hits[t] = wp.int64(inside)


@wp.kernel
def wp_stencil(a: wp.array2d(dtype=wp.float64), out: wp.array2d(dtype=wp.float64)):
    x, y = wp.tid()
    h = a.shape[0]
    w = a.shape[1]
    if 0 < x and x < w - 1 and 0 < y and y < h - 1:
        out[y, x] = wp.float64(0.25) * (a[y - 1, x] + a[y + 1, x] + a[y, x - 1] + a[y, x + 1])
    else:
        out[y, x] = a[y, x]


@wp.kernel
def wp_empty(x: wp.array(dtype=wp.float32)):
    i = wp.tid()
    x[i] = 1.0


def make_warp_kernels(wp_module):
    """Factories: each takes the problem size and returns a function that launches once."""
    cpu = "cpu"

    def saxpy(n):
        x = wp.array(np.arange(n, dtype=np.float32) % 1000, dtype=wp.float32, device=cpu)
        y = wp.array(np.ones(n, dtype=np.float32), dtype=wp.float32, device=cpu)
        return lambda: wp.launch(wp_saxpy, dim=n, inputs=[2.0, x, y], device=cpu)

    def mandelbrot(w, h, x0, y0, step, it):
        out = wp.zeros((h, w), dtype=wp.int32, device=cpu)
        return lambda: wp.launch(wp_mandelbrot, dim=(w, h), inputs=[out, x0, y0, step, it],
                                 device=cpu)

    def mc_pi(threads, samples):
        hits = wp.zeros(threads, dtype=wp.int64, device=cpu)
        return lambda: wp.launch(wp_mc_pi, dim=threads, inputs=[hits, 7, samples], device=cpu)

    def stencil(a):
        src = wp.array(a, dtype=wp.float64, device=cpu)
        out = wp.zeros(a.shape, dtype=wp.float64, device=cpu)
        h, w = a.shape
        return lambda: wp.launch(wp_stencil, dim=(w, h), inputs=[src, out], device=cpu)

    def empty():
        x = wp.zeros(1, dtype=wp.float32, device=cpu)
        return lambda: wp.launch(wp_empty, dim=1, inputs=[x], device=cpu)

    return {"saxpy": saxpy, "mandelbrot": mandelbrot, "mc_pi": mc_pi, "stencil": stencil,
            "empty": empty}
