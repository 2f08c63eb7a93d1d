"""The Mandelbrot set as ASCII art: a 2-D @pyhost.kernel launch (mandelbrot[w, h]) with a
`while` loop, tuple assignment and a @pyhost.func helper.

    pyhost run scripts/kernels/mandelbrot.py [width height]
"""
import sys
import time

import pyhost


@pyhost.func
def escape_time(cr: pyhost.f64, ci: pyhost.f64, max_iter: pyhost.i32):
    zr, zi = 0.0, 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 4.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    return n


@pyhost.kernel
def mandelbrot(out: pyhost.u8[:, :], x0: pyhost.f64, y0: pyhost.f64, dx: pyhost.f64,
               dy: pyhost.f64, max_iter: pyhost.i32):
    px, py = pyhost.tid()
    n = escape_time(x0 + px * dx, y0 + py * dy, max_iter)
    out[py, px] = n * 255 // max_iter


def main():
    w, h = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (78, 32)
    image = memoryview(bytearray(w * h)).cast("B", (h, w))
    start = time.perf_counter()
    mandelbrot[w, h](image, -2.2, -1.2, 3.2 / w, 2.4 / h, 200)
    elapsed = time.perf_counter() - start
    shades = " .:-=+*#%@"
    for y in range(h):
        print("".join(shades[min(9, image[y, x] * 10 // 256)] for x in range(w)))
    print(f"{w}x{h} on {mandelbrot.device} in {elapsed * 1e3:.1f} ms (including compilation)")


if __name__ == "__main__":
    main()
