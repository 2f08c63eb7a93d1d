"""@pyhost.kernel benchmark: the CPU fallback against Numba and Warp on the same kernels.

Kernels: SAXPY (f32) at 2M and 32M elements, mandelbrot (320x240, 200 iterations, f64), Monte
Carlo pi (Philox random numbers, integer counts) and a 2-D 5-point stencil (f64, 1024x1024).
Each runs as
  pyhost      the kernel's native CPU build over every core (GIL released), and on one thread
  numba       @njit(parallel=True) with prange, and the same functions serial (@njit), when
              numba is importable
  warp        warp-lang's CPU device (wp.launch(device="cpu")), when warp is importable
  python      the plain Python loop (mandelbrot and a small SAXPY: the per-core ratio)
Each kernel's implementations are warmed up once (compile excluded), then run in turn for --repeat
rounds, each timed call right after an untimed one (bench/timing.py: on a shared machine all of
them see the same load, each with its data in the caches); the best and the median are
reported. The launch overhead is a 1-element launch of a trivial kernel. The pyhost kernels are
the test suite's samples (tests/kernel/kernel_samples.py, lane_samples.py) where the peers
compute the same thing, so the benchmark times what the tests check. With a GPU
(PYHOST_DEVICE=cuda or auto on a GPU machine) the `cuda` device is timed too.
Peers: pip install -r bench/requirements-bench.txt.

    PYTHONPATH=runtime:build/python python bench/kernels_bench.py [--quick] [--json FILE]
"""
import argparse
import array
import json
import os
import platform
import subprocess
import statistics
import sys
import tempfile

# Numba's default threading layer (OpenMP) spins while it waits; on a machine shared with other
# work (load above the core count) each parallel call then takes 10-20 ms instead of 0.2. The
# passive wait keeps numba's figures meaningful there; OMP_WAIT_POLICY=active restores the
# default (set it in the environment to override).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "runtime"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "kernel"))

from pyhost import _kernels as pk  # noqa: E402
from machine import cpu_model  # noqa: E402
from pyhost._kernels import f32, f64, i32  # noqa: E402

import _pyhost_kernels as native  # noqa: E402
from kernel_samples import saxpy  # noqa: E402 - y[i] = a * x[i] + y[i]
from lane_samples import mc_hits as mc_pi  # noqa: E402 - Philox pairs in a loop, counts
from lane_samples import stencil  # noqa: E402 - guarded 5-point stencil
from timing import interleaved, interleaved_rounds, paired_ratio  # noqa: E402

try:
    import numpy as np
except ImportError:  # the peers need numpy; pyhost alone does not
    np = None


# ---- the kernels the samples do not have, as pyhost writes them -------------------------------

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


@pk.kernel
def empty(x: f32[:]):
    i = pk.tid()
    x[i] = 1.0


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


# ---- timing ----------------------------------------------------------------------------------

def one_thread(fn):
    """fn run with the kernels' CPU pool cut to the calling thread."""
    def run():
        native.set_cpu_threads(1)
        try:
            return fn()
        finally:
            native.set_cpu_threads(0)
    return run


# ---- peers -----------------------------------------------------------------------------------

def numba_peer():
    try:
        import numba
        from numba import njit, prange
    except ImportError as exc:
        return None, f"numba not importable ({exc})"
    u = np.uint64
    m32 = u(0xFFFFFFFF)

    @njit(parallel=True)
    def nb_saxpy(a, x, y):
        for i in prange(x.shape[0]):
            y[i] = a * x[i] + y[i]

    @njit(parallel=True)
    def nb_mandelbrot(out, x0, y0, step, max_iter):
        h, w = out.shape
        for py in prange(h):
            for px in range(w):
                cr = x0 + px * step
                ci = y0 + py * step
                zr, zi = 0.0, 0.0
                n = 0
                while n < max_iter and zr * zr + zi * zi <= 4.0:
                    zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                    n += 1
                out[py, px] = n

    @njit(inline="always")
    def nb_random(seed, counter):  # pyhost.random: Philox-4x32-10, the same bits
        c0 = u(counter) & m32
        c1 = (u(counter) >> u(32)) & m32
        c2 = u(0)
        c3 = u(0)
        k0 = u(seed) & m32
        k1 = (u(seed) >> u(32)) & m32
        for r in range(10):
            if r:
                k0 = (k0 + u(0x9E3779B9)) & m32
                k1 = (k1 + u(0xBB67AE85)) & m32
            p0 = u(0xD2511F53) * c0
            p1 = u(0xCD9E8D57) * c2
            c0, c1, c2, c3 = ((p1 >> u(32)) ^ c1 ^ k0, p1 & m32, (p0 >> u(32)) ^ c3 ^ k1,
                              p0 & m32)
        return (float(c0 >> u(5)) * 67108864.0 + float(c1 >> u(6))) * (1.0 / 9007199254740992.0)

    @njit(parallel=True)
    def nb_mc_pi(hits, seed, samples):
        for t in prange(hits.shape[0]):
            inside = 0
            for k in range(samples):
                c = 2 * (t * samples + k)
                x = nb_random(seed, c)
                y = nb_random(seed, c + 1)
                if x * x + y * y <= 1.0:
                    inside += 1
            hits[t] = inside

    @njit(parallel=True)
    def nb_stencil(a, out):
        h, w = a.shape
        for y in prange(h):
            for x in range(w):
                if 0 < x and x < w - 1 and 0 < y and y < h - 1:
                    out[y, x] = 0.25 * (a[y - 1, x] + a[y + 1, x] + a[y, x - 1] + a[y, x + 1])
                else:
                    out[y, x] = a[y, x]

    @njit(parallel=True)
    def nb_empty(x):
        for i in prange(x.shape[0]):
            x[i] = 1.0

    # The same functions compiled without parallel=True (prange runs as range): one thread.
    serial = {name: njit(fn.py_func) for name, fn in
              (("saxpy", nb_saxpy), ("mandelbrot", nb_mandelbrot), ("mc_pi", nb_mc_pi),
               ("stencil", nb_stencil))}
    return {"saxpy": nb_saxpy, "mandelbrot": nb_mandelbrot, "mc_pi": nb_mc_pi,
            "stencil": nb_stencil, "launch": nb_empty, "serial": serial,
            "version": f"numba {numba.__version__}, {numba.get_num_threads()} threads, "
                       f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}"}, ""


def warp_peer():
    try:
        import warp as wp
    except ImportError as exc:
        return None, f"warp not importable ({exc})"
    wp.config.quiet = True
    wp.init()
    from warp_kernels import make_warp_kernels
    kernels = make_warp_kernels(wp)
    kernels["version"] = f"warp {wp.config.version}, CPU device (1 thread)"
    return kernels, ""


def c_saxpy_peer():
    """SAXPY written by hand in C (OpenMP, static split, -O3 -march=native), loaded with ctypes:
    the machine's own roof for a DRAM-bound kernel, so that the 32M row says whether pyhost and
    numba are behind the hardware or only behind each other."""
    import ctypes
    import shutil
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or np is None:
        return None
    src = r"""
#include <stdint.h>
void saxpy(int64_t n, float a, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i] + y[i];
}
"""
    tmp = tempfile.mkdtemp(prefix="pyhost-bench-c-")
    so = os.path.join(tmp, "saxpy.so")
    with open(os.path.join(tmp, "saxpy.c"), "w") as f:
        f.write(src)
    r = subprocess.run([cc, "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-o", so,
                        os.path.join(tmp, "saxpy.c")], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    fn = ctypes.CDLL(so).saxpy
    fn.argtypes = [ctypes.c_int64, ctypes.c_float, ctypes.c_void_p, ctypes.c_void_p]
    fn.restype = None
    return lambda a, x, y: fn(x.shape[0], a, x.ctypes.data, y.ctypes.data)


# ---- the runs --------------------------------------------------------------------------------

def f32_buffers(n):
    """x (i % 1000) and y (ones): numpy arrays when numpy is there, so that pyhost and the peers
    run on the same buffers (numpy aligns large arrays and may back them with huge pages, which
    changes memory-bound timings), else array.array."""
    if np is not None:
        return (np.arange(n) % 1000).astype(np.float32), np.ones(n, dtype=np.float32)
    return array.array("f", (float(i % 1000) for i in range(n))), array.array("f", [1.0]) * n


def run_all(args):
    rows = []  # {kernel, size, impl, best_s, median_s}
    cores = native.cpu_threads()
    nb, nb_why = numba_peer() if np is not None else (None, "numpy not importable")
    wpk, wp_why = warp_peer() if np is not None else (None, "numpy not importable")
    pk.set_device("cpu")

    def lineup(kernel, size, launch, numba_call=None, warp=None, warp_label="warp cpu",
               repeat=args.repeat, serial=True, extra=None):
        """Times pyhost on every core (and on one), numba parallel (and serial; numba_call(fn)
        runs one of them) and warp, in interleaved rounds."""
        fns = {f"pyhost cpu x{cores}": launch}
        if serial:
            fns["pyhost cpu x1"] = one_thread(launch)
        if nb and numba_call:
            fns["numba parallel"] = lambda: numba_call(nb[kernel])
            if serial:
                fns["numba serial"] = lambda: numba_call(nb["serial"][kernel])
        if wpk and warp:
            fns[warp_label] = warp
        fns.update(extra or {})
        for impl, ts in interleaved_rounds(fns, repeat).items():
            rows.append({"kernel": kernel, "size": size, "impl": impl, "best_s": min(ts),
                         "median_s": statistics.median(ts), "rounds_s": ts})

    # SAXPY (and C by hand: the roof of the memory-bound size)
    c_saxpy = c_saxpy_peer()
    for n in args.saxpy_sizes:
        x, y = f32_buffers(n)
        a32 = np.float32(2.0) if np is not None else None
        lineup("saxpy", f"{n / 1e6:g}M f32", lambda: saxpy[n](2.0, x, y),
               lambda fn: fn(a32, x, y), wpk and wpk["saxpy"](n),
               extra={"C by hand (OpenMP)": lambda: c_saxpy(2.0, x, y)} if c_saxpy else None)
    if args.python:
        n = 200_000
        x = array.array("f", (float(i % 1000) for i in range(n)))
        y = array.array("f", [1.0]) * n
        for impl, (b, m) in interleaved({"python": lambda: saxpy_python(2.0, x, y),
                                         "pyhost cpu x1": one_thread(lambda: saxpy[n](2.0, x, y))},
                                        1, warm=0).items():
            rows.append({"kernel": "saxpy", "size": "0.2M f32", "impl": impl, "best_s": b,
                         "median_s": m})

    # Mandelbrot
    w, h, it = args.width, args.height, args.max_iter
    size = f"{w}x{h} it={it}"
    step = 3.0 / w
    img = np.zeros((h, w), dtype=np.int32) if np is not None else \
        memoryview(bytearray(w * h * 4)).cast("B").cast("i", (h, w))
    if args.python:
        pyimg = memoryview(bytearray(w * h * 4)).cast("B").cast("i", (h, w))
        b, m = interleaved({"python": lambda: mandelbrot_python(pyimg, w, h, -2.2, -1.2, step,
                                                                it)}, 1, warm=0)["python"]
        rows.append({"kernel": "mandelbrot", "size": size, "impl": "python", "best_s": b,
                     "median_s": m})
        mandelbrot[w, h](img, -2.2, -1.2, step, it)
        assert img.tobytes() == pyimg.tobytes(), "the CPU build differs from the Python loop"
    out = np.zeros((h, w), dtype=np.int32) if nb else None
    lineup("mandelbrot", size, lambda: mandelbrot[w, h](img, -2.2, -1.2, step, it),
           lambda fn: fn(out, -2.2, -1.2, step, it),
           wpk and wpk["mandelbrot"](w, h, -2.2, -1.2, step, it))
    if nb:
        assert out.tobytes() == img.tobytes(), "numba's mandelbrot differs"

    # Monte Carlo pi
    threads, samples = args.pi_threads, args.pi_samples
    hits = np.zeros(threads, dtype=np.int64) if np is not None else array.array("q", [0]) * threads
    hn = np.zeros(threads, dtype=np.int64) if nb else None
    lineup("mc_pi", f"{threads}x{samples} samples", lambda: mc_pi[threads](hits, 7, samples),
           lambda fn: fn(hn, 7, samples), wpk and wpk["mc_pi"](threads, samples),
           "warp cpu (wp.randf)")
    if nb:
        assert hn.tobytes() == hits.tobytes(), "numba's Philox differs"

    # Stencil
    sw = sh = args.stencil
    a = memoryview(bytearray(8 * sw * sh)).cast("B").cast("d", (sh, sw))
    for k in range(0, sw * sh, 7):
        a[k // sw, k % sw] = (k % 101) * 0.01
    out = memoryview(bytearray(8 * sw * sh)).cast("B").cast("d", (sh, sw))
    if np is not None:  # the peers' buffers (numpy aligns and may use huge pages)
        a, out = np.array(a), np.zeros((sh, sw))
    on = np.zeros((sh, sw)) if nb else None
    lineup("stencil", f"{sw}x{sh} f64", lambda: stencil[sw, sh](a, out),
           lambda fn: fn(a, on), wpk and wpk["stencil"](np.asarray(a)))
    if nb:
        assert on.tobytes() == out.tobytes(), "numba's stencil differs"

    # Launch overhead: one element of a trivial kernel
    one = array.array("f", [0.0])
    on1 = np.zeros(1, dtype=np.float32) if nb else None
    lineup("launch", "1 element", lambda: empty[1](one), lambda fn: fn(on1),
           wpk and wpk["empty"](), repeat=200, serial=False)

    if native.cuda_status()[0]:
        pk.set_device("cuda")
        n = args.saxpy_sizes[0]
        x = array.array("f", [1.0]) * n
        y = array.array("f", [1.0]) * n
        for kernel, size, impl, fn in (
                ("saxpy", f"{n / 1e6:g}M f32", "pyhost cuda (copies in/out)",
                 lambda: saxpy[n](2.0, x, y)),
                ("mandelbrot", f"{w}x{h} it={it}", "pyhost cuda",
                 lambda: mandelbrot[w, h](img, -2.2, -1.2, step, it))):
            b, m = interleaved({impl: fn}, args.repeat)[impl]
            rows.append({"kernel": kernel, "size": size, "impl": impl, "best_s": b,
                         "median_s": m})
    pk.set_device("auto")
    peers = {"numba": nb["version"] if nb else nb_why, "warp": wpk["version"] if wpk else wp_why}
    return rows, peers


def compile_times():
    """Cold compile and warm cache load of a fresh kernel, each in a new process."""
    code = r"""
import time, sys
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




def table(rows, cores):
    """Markdown: each pyhost row with the peers' time over its own (>1: pyhost faster); the
one-thread row against numba serial, the all-cores row against numba parallel. "vs numba,
paired" is the median (p25-p75) over the interleaved rounds of numba's time over pyhost's in
the same round: the figure to read where the load moves the times between rounds."""
    lines = ["| kernel | size | implementation | best | median | vs numba | vs numba, paired "
             "| vs warp |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    by = {(r["kernel"], r["size"], r["impl"].split(" (")[0]): r for r in rows}
    for r in rows:
        ratios = []
        one = r["impl"] == "pyhost cpu x1"
        mine = r["impl"].startswith("pyhost cpu x")
        numba = by.get((r["kernel"], r["size"], "numba serial" if one else "numba parallel"))
        for peer in (numba, by.get((r["kernel"], r["size"], "warp cpu"))):
            ratios.append(f"{peer['best_s'] / r['best_s']:.2f}x" +
                          (" (serial)" if one and peer is numba else "")
                          if peer and mine else "")
        paired = ""
        if mine and numba and len(numba.get("rounds_s", ())) == len(r.get("rounds_s", ())) > 0:
            med, lo, hi = paired_ratio(numba["rounds_s"], r["rounds_s"])
            paired = f"{med:.2f}x ({lo:.2f}-{hi:.2f})"
        unit = 1e6 if r["kernel"] == "launch" else 1e3
        fmt = "{:.1f} us" if r["kernel"] == "launch" else "{:.3f} ms"
        lines.append(f"| {r['kernel']} | {r['size']} | {r['impl']} | "
                     f"{fmt.format(r['best_s'] * unit)} | {fmt.format(r['median_s'] * unit)} | "
                     f"{ratios[0]} | {paired} | {ratios[1]} |")
    return "\n".join(lines)


def bandwidth(rows):
    """SAXPY's memory traffic per second (x read, y read and written: 12 bytes an element) at
    each implementation's median: how close each comes to the machine's roof (C by hand)."""
    lines = []
    for size in dict.fromkeys(r["size"] for r in rows if r["kernel"] == "saxpy"):
        n = float(size.split("M")[0]) * 1e6
        figures = [f"{r['impl']} {12 * n / r['median_s'] / 1e9:.1f}" for r in rows
                   if r["kernel"] == "saxpy" and r["size"] == size and r["median_s"] > 0]
        lines.append(f"SAXPY {size} memory traffic, GB/s at the median: " + ", ".join(figures))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--saxpy-sizes", type=int, nargs="+", default=[2_000_000, 32_000_000])
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--max-iter", type=int, default=200)
    ap.add_argument("--pi-threads", type=int, default=4096)
    ap.add_argument("--pi-samples", type=int, default=256)
    ap.add_argument("--stencil", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-python", dest="python", action="store_false",
                    help="skip the pure-Python loops")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    if args.quick:
        args.saxpy_sizes, args.width, args.height, args.max_iter = [200_000], 80, 60, 100
        args.pi_threads, args.pi_samples, args.stencil, args.repeat = 256, 64, 128, 2

    cores = native.cpu_threads()
    machine = {"cpu": cpu_model(), "cores": cores, "python": platform.python_version(),
               "load_average": os.getloadavg(),
               "compiler": native.cpu_status()[1], "cuda": native.cuda_status()[1]}
    rows, peers = run_all(args)
    results = {"machine": machine, "peers": peers, "params": vars(args), "rows": rows,
               "compile": compile_times(),
               "loops": {name: k._compiled["cpu"].loop for name, k in
                         (("saxpy", saxpy), ("mandelbrot", mandelbrot), ("mc_pi", mc_pi),
                          ("stencil", stencil)) if "cpu" in k._compiled}}
    c = results["compile"]
    print(f"machine: {machine['cpu']}, {cores} core(s), Python {machine['python']}, "
          f"{machine['compiler']}, load average {machine['load_average'][0]:.1f}")
    print(f"peers: numba: {peers['numba']}; warp: {peers['warp']}")
    print(f"CPU loops: {results['loops']}")
    print(table(rows, cores))
    print(bandwidth(rows))
    print(f"compile: cold {c['cold_compile_s'] * 1e3:.0f} ms, warm cache load "
          f"{c['warm_load_s'] * 1e3:.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
