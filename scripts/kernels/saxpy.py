"""SAXPY (y = a*x + y) over 2 million floats with @pyhost.kernel, checked against Python.

    pyhost run scripts/kernels/saxpy.py [n]
"""
import array
import sys
import time

import pyhost


@pyhost.kernel
def saxpy(a: pyhost.f32, x: pyhost.f32[:], y: pyhost.f32[:]):
    i = pyhost.tid()
    y[i] = a * x[i] + y[i]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    x = array.array("f", range(n))
    y = array.array("f", [1.0]) * n
    saxpy[n](2.0, x, y)               # first launch compiles (or loads from the kernel cache)
    start = time.perf_counter()
    saxpy[n](2.0, x, y)
    elapsed = time.perf_counter() - start
    for i in (0, n // 2, n - 1):       # y = 2x + 1, then 2x + (2x + 1): exact in f32 here
        assert y[i] == 4.0 * i + 1.0, (i, y[i])
    print(f"saxpy over {n:,} floats on {saxpy.device}: {elapsed * 1e3:.2f} ms "
          f"({3 * 4 * n / elapsed / 1e9:.1f} GB/s)")
    print("generated CUDA C++:")
    print(saxpy.source.split("#if PH_CUDA")[0])


if __name__ == "__main__":
    main()
