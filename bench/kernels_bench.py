"""@pyhost.kernel benchmark: the CPU fallback against the pure-Python loop.

SAXPY over 2M floats and a mandelbrot image, each run as
  python      the plain Python loop over array.array (what the script would do without pyhost)
  cpu x1      the kernel's native CPU build on one thread
  cpu xN      the same over every core (the thread pool, GIL released)
plus the kernel's cold compile and warm (disk cache) load times. With a GPU (PYHOST_DEVICE=cuda
or auto on a GPU machine) the `cuda` device is timed too.

    PYTHONPATH=runtime:build/python python bench/kernels_bench.py [--quick] [--json FILE]
"""
import argparse
import array
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "runtime"))

from pyhost import _kernels as pk  # noqa: E402
from pyhost._kernels import f32, f64, i32  # noqa: E402

import _pyhost_kernels as native  # noqa: E402


@pk.kernel
def saxpy(a: f32, x: f32[:], y: f32[:]):
    i = pk.tid()
    y[i] = a * x[i] + y[i]


@pk.kernel
def mandelbrot(out: i32[:, :], x0: f64, y0: f64, step: f64, max_iter: i32):
    px, py = pk.tid()
    cr = x0 + px * step
    ci = y0 + py * step
    zr, zi = 0.0, 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 4.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    out[py, px] = n


def saxpy_python(a, x, y):
    for i in range(len(x)):
        y[i] = a * x[i] + y[i]


def mandelbrot_python(out, w, h, x0, y0, step, max_iter):
    for py in range(h):
        for px in range(w):
            cr = x0 + px * step
            ci = y0 + py * step
            zr, zi = 0.0, 0.0
            n = 0
            while n < max_iter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            out[py, px] = n


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def compile_times():
    """Cold compile and warm cache load of a fresh kernel, each in a new process."""
    code = r"""
import time, sys
t0 = time.perf_counter()
from pyhost import _kernels as pk
import _pyhost_kernels as m
@pk.kernel
def bench_compile(a: pk.f64, x: pk.f64[:]):
    i = pk.tid()
    x[i] = a * x[i] + 1.0
import array
x = array.array("d", [1.0])
pk.set_device("cpu")
t = time.perf_counter()
bench_compile[1](2.0, x)
print(time.perf_counter() - t, m.stats()["compiles"], m.stats()["disk_hits"])
"""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYHOST_KERNEL_CACHE=cache, PYTHONPATH=os.pathsep.join(sys.path))
        out = []
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True)
            secs, compiles, hits = res.stdout.split()
            out.append((float(secs), int(compiles), int(hits)))
    return {"cold_compile_s": out[0][0], "warm_load_s": out[1][0],
            "cold_compiled": out[0][1] == 1, "warm_from_disk": out[1][2] == 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000, help="SAXPY length")
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--max-iter", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    if args.quick:
        args.n, args.width, args.height, args.max_iter, args.repeat = 200_000, 80, 60, 100, 2

    cores = native.cpu_threads()
    results = {"machine": {"cpu": platform.processor() or platform.machine(),
                           "cores": cores, "python": platform.python_version(),
                           "compiler": native.cpu_status()[1],
                           "cuda": native.cuda_status()[1]},
               "params": vars(args)}

    # SAXPY
    n = args.n
    x = array.array("f", (float(i % 1000) for i in range(n)))
    y = array.array("f", [1.0]) * n
    py_s, _ = best(lambda: saxpy_python(2.0, x, y), max(1, min(args.repeat, 2)))
    pk.set_device("cpu")
    saxpy[n](2.0, x, y)  # compile / load
    native.set_cpu_threads(1)
    one_s, one_med = best(lambda: saxpy[n](2.0, x, y), args.repeat)
    native.set_cpu_threads(0)
    all_s, all_med = best(lambda: saxpy[n](2.0, x, y), args.repeat)
    results["saxpy"] = {"n": n, "python_s": py_s, "cpu1_s": one_s, "cpuN_s": all_s,
                        "speedup_1": py_s / one_s, "speedup_N": py_s / all_s,
                        "scaling": one_s / all_s,
                        "cpuN_GBps": 12 * n / all_s / 1e9}

    # Mandelbrot
    w, h, it = args.width, args.height, args.max_iter
    step = 3.0 / w
    img = memoryview(bytearray(w * h * 4)).cast("B").cast("i", (h, w))
    py_m, _ = best(lambda: mandelbrot_python(img, w, h, -2.2, -1.2, step, it), 1)
    ref = img.tobytes()
    mandelbrot[w, h](img, -2.2, -1.2, step, it)
    assert img.tobytes() == ref, "CPU fallback differs from the Python loop"
    native.set_cpu_threads(1)
    one_m, _ = best(lambda: mandelbrot[w, h](img, -2.2, -1.2, step, it), args.repeat)
    native.set_cpu_threads(0)
    all_m, _ = best(lambda: mandelbrot[w, h](img, -2.2, -1.2, step, it), args.repeat)
    results["mandelbrot"] = {"size": f"{w}x{h}", "max_iter": it, "python_s": py_m,
                             "cpu1_s": one_m, "cpuN_s": all_m, "speedup_1": py_m / one_m,
                             "speedup_N": py_m / all_m, "scaling": one_m / all_m}

    if native.cuda_status()[0]:
        pk.set_device("cuda")
        saxpy[n](2.0, x, y)
        results["saxpy"]["cuda_s"], _ = best(lambda: saxpy[n](2.0, x, y), args.repeat)
        mandelbrot[w, h](img, -2.2, -1.2, step, it)
        results["mandelbrot"]["cuda_s"], _ = best(
            lambda: mandelbrot[w, h](img, -2.2, -1.2, step, it), args.repeat)
    pk.set_device("auto")

    results["compile"] = compile_times()

    s, m, c = results["saxpy"], results["mandelbrot"], results["compile"]
    print(f"machine: {results['machine']['cpu']}, {cores} core(s), Python "
          f"{results['machine']['python']}, {results['machine']['compiler']}")
    print(f"SAXPY n={n:,}:   python {s['python_s'] * 1e3:9.1f} ms | cpu x1 {s['cpu1_s'] * 1e3:7.2f} ms "
          f"({s['speedup_1']:6.0f}x) | cpu x{cores} {s['cpuN_s'] * 1e3:7.2f} ms "
          f"({s['speedup_N']:6.0f}x, scaling {s['scaling']:.2f}, {s['cpuN_GBps']:.1f} GB/s)")
    print(f"mandelbrot {m['size']} it={it}: python {m['python_s'] * 1e3:9.1f} ms | cpu x1 "
          f"{m['cpu1_s'] * 1e3:7.2f} ms ({m['speedup_1']:6.0f}x) | cpu x{cores} "
          f"{m['cpuN_s'] * 1e3:7.2f} ms ({m['speedup_N']:6.0f}x, scaling {m['scaling']:.2f})")
    if "cuda_s" in s:
        print(f"cuda: saxpy {s['cuda_s'] * 1e3:.3f} ms, mandelbrot {m['cuda_s'] * 1e3:.3f} ms")
    print(f"compile: cold {c['cold_compile_s'] * 1e3:.0f} ms, warm cache load "
          f"{c['warm_load_s'] * 1e3:.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
