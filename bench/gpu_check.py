"""The measurements of bench/gpu_check.sh (run it through that script, which builds the engine).

Each part runs on its own, and one that cannot run is listed as skipped with the reason:
  status      the device, NVRTC, the engine's build
  correctness kernels on the GPU against the python reference device (and numpy where
              importable): SAXPY f32/f64, mandelbrot, Monte Carlo pi with atomics, a 2-D
              stencil, device arrays kept on the GPU across launches
  examples    scripts/kernels/*.py with PYHOST_DEVICE=cuda (each checks its own results)
  cuda_api    scripts/numba_cuda/*.py (Numba CUDA programs on `from pyhost import cuda`) on the
              GPU and on the CPU: every number each prints must agree (relative 1e-4 plus
              1e-3 absolute: atomics' order in a float sum, FMA in an error figure)
  bandwidth   SAXPY on device arrays (12 bytes an element) against a copy kernel (8 bytes) and,
              with CuPy, a device-to-device cudaMemcpy
  launch      host-side overhead of a 1-element launch of an empty kernel on a device array
  compile     cold NVRTC compile and warm disk-cache load of a fresh kernel, each in a new process
  peers       numba-cuda and CuPy on SAXPY and mandelbrot, when importable
Writes OUT/gpu_check.json and OUT/gpu_check.md.
"""
import argparse
import array
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "runtime"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "kernel"))

from pyhost import _kernels as pk  # noqa: E402
from timing import best_of  # noqa: E402 - bench/timing.py

try:
    import numpy as np
except ImportError:
    np = None


class Skip(Exception):
    """This part cannot run here (the message says why)."""


def timed(fn, repeat=5):
    return best_of(fn, repeat)[0]


def need_cuda(native):
    ok, why = native.cuda_status()
    if not ok:
        raise Skip(f"no usable GPU: {why}")


# ---- parts -----------------------------------------------------------------------------------

def part_status(native, report):
    info = {"python": platform.python_version(), "engine": native.version,
            "nvrtc_built_in": bool(native.nvrtc_built_in),
            "cuda": native.cuda_status(), "nvrtc": native.nvrtc_status(),
            "cpu": native.cpu_status(), "numpy": np.__version__ if np else None}
    report["status"] = info
    return (f"device: {info['cuda'][1]}; NVRTC: {info['nvrtc'][1]}; "
            f"built with nvrtc.h: {info['nvrtc_built_in']}")


def part_correctness(native, report):
    need_cuda(native)
    import kernel_samples as ks
    results = {}

    def compare(name, kernel, dims, make, outputs, exact=True):
        ref = make()
        with_device("python", kernel, dims, ref)
        got = make()
        with_device("cuda", kernel, dims, got)
        ok = True
        worst = 0.0
        for k in outputs:
            a, b = memoryview(ref[k]).cast("B"), memoryview(got[k]).cast("B")
            if exact:
                ok = ok and bytes(a) == bytes(b)
            else:
                ra, rb = ref[k].tolist(), got[k].tolist()
                flat = lambda v: [x for r in v for x in (r if isinstance(r, list) else [r])]  # noqa
                worst = max([abs(x - y) for x, y in zip(flat(ra), flat(rb))] or [0.0])
                ok = ok and worst <= 1e-5
        results[name] = {"ok": ok, "exact": exact, "max_abs_diff": worst}

    n = 100_003
    compare("saxpy f32", ks.saxpy, n, lambda: (2.5, array.array("f", range(n)),
                                               array.array("f", [1.0]) * n), [2])
    compare("saxpy f64", ks.saxpy64, n, lambda: (2.5, array.array("d", range(n)),
                                                 array.array("d", [1.0]) * n), [2])
    w, h = 160, 120
    compare("mandelbrot i32", ks.mandelbrot, (w, h),
            lambda: (memoryview(bytearray(w * h * 4)).cast("i", (h, w)), -2.0, -1.2,
                     2.8 / w, 100), [0])
    compare("monte carlo pi (atomics)", ks.monte_carlo_pi, 2048,
            lambda: (array.array("q", [0]), 1234, 64), [0])
    import lane_samples as ls
    def stencil_args():
        a = array.array("d", [((k * 37) % 101) * 0.01 for k in range(97 * 61)])
        return (memoryview(a).cast("B").cast("d", (61, 97)),
                memoryview(bytearray(8 * 97 * 61)).cast("d", (61, 97)))
    compare("stencil f64", ls.stencil, (97, 61), stencil_args, [1])
    # Device arrays: two launches on data that stays on the GPU.
    x = pk.device_array(array.array("f", [1.0] * 1000))
    y = pk.device_array(array.array("f", [2.0] * 1000))
    pk.set_device("cuda")
    ks.saxpy[1000](3.0, x, y)
    ks.saxpy[1000](3.0, x, y)
    pk.set_device("auto")
    results["device arrays"] = {"ok": y.tolist()[:3] == [8.0, 8.0, 8.0], "exact": True,
                                "max_abs_diff": 0.0}
    if np is not None:
        xs = np.arange(n, dtype=np.float32)
        ys = np.ones(n, dtype=np.float32)
        expect = np.float32(2.5) * xs + ys
        pk.set_device("cuda")
        ks.saxpy[n](2.5, xs, ys)
        pk.set_device("auto")
        results["saxpy vs numpy"] = {"ok": bool((ys == expect).all()), "exact": True,
                                     "max_abs_diff": float(np.abs(ys - expect).max())}
    report["correctness"] = results
    bad = [k for k, v in results.items() if not v["ok"]]
    return f"{len(results) - len(bad)}/{len(results)} match" + (f" (FAILED: {bad})" if bad else "")


def with_device(dev, kernel, dims, args):
    pk.set_device(dev)
    try:
        kernel[dims](*args)
    finally:
        pk.set_device("auto")


def part_examples(native, report):
    """scripts/kernels/*.py (they check their own results) on the GPU, each in a new process."""
    need_cuda(native)
    folder = os.path.join(HERE, "..", "scripts", "kernels")
    env = dict(os.environ, PYHOST_DEVICE="cuda", PYTHONPATH=os.pathsep.join(sys.path))
    results = {}
    for name in sorted(f for f in os.listdir(folder) if f.endswith(".py")):
        res = subprocess.run([sys.executable, os.path.join(folder, name)], env=env,
                             capture_output=True, text=True, timeout=90)
        out = (res.stdout + res.stderr).strip().splitlines()
        results[name] = {"ok": res.returncode == 0 and "cuda" in res.stdout,
                         "rc": res.returncode, "first_line": out[0] if out else ""}
    report["examples"] = results
    bad = [k for k, v in results.items() if not v["ok"]]
    return f"{len(results) - len(bad)}/{len(results)} ran on cuda and checked their results" + \
        (f" (FAILED: {bad})" if bad else "")


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def numbers(text):
    """The numbers in a program's output, in order (ints and floats, numpy's array prints too)."""
    return [float(m) for m in _NUMBER.findall(text)]


def agree(gpu, cpu, rtol=1e-4, atol=1e-3):
    """Whether two outputs print the same numbers: equal count, each pair within rtol of the
    larger or atol apart. rtol lets a float sum's atomics run in another order; atol lets an
    error figure read 6e-05 on one device and 9e-05 on the other (the GPU contracts to FMA)."""
    a, b = numbers(gpu), numbers(cpu)
    return len(a) == len(b) and all(abs(x - y) <= rtol * max(abs(x), abs(y)) + atol
                                    for x, y in zip(a, b))


def part_cuda_api(native, report):
    """scripts/numba_cuda/*.py with PYHOST_DEVICE=cuda, each against its own CPU run."""
    need_cuda(native)
    folder = os.path.join(HERE, "..", "scripts", "numba_cuda")
    results = {}
    for name in sorted(f for f in os.listdir(folder) if f.endswith(".py")):
        runs = {}
        for device in ("cuda", "cpu"):
            env = dict(os.environ, PYHOST_DEVICE=device, PYTHONPATH=os.pathsep.join(sys.path))
            runs[device] = subprocess.run([sys.executable, os.path.join(folder, name)], env=env,
                                          capture_output=True, text=True, timeout=120)
        gpu, cpu = runs["cuda"], runs["cpu"]
        results[name] = {"ok": gpu.returncode == 0 and cpu.returncode == 0 and
                         agree(gpu.stdout, cpu.stdout),
                         "rc": gpu.returncode, "cuda": gpu.stdout.strip()[-300:],
                         "cpu": cpu.stdout.strip()[-300:], "stderr": gpu.stderr.strip()[-500:]}
    report["cuda_api"] = results
    bad = [k for k, v in results.items() if not v["ok"]]
    return (f"{len(results) - len(bad)}/{len(results)} printed the same numbers on cuda as on "
            f"the CPU" + (f" (FAILED: {bad})" if bad else ""))


@pk.kernel
def copy_f32(x: pk.f32[:], y: pk.f32[:]):
    i = pk.tid()
    y[i] = x[i]


@pk.kernel
def empty_kernel(x: pk.f32[:]):
    i = pk.tid()
    if i < 0:
        x[i] = 0.0


def part_bandwidth(native, report, n):
    need_cuda(native)
    import kernel_samples as ks
    x = pk.device_array(n, dtype=pk.f32)
    y = pk.device_array(n, dtype=pk.f32)
    pk.set_device("cuda")
    try:
        saxpy = timed(lambda: ks.saxpy[n](2.0, x, y))
        copy = timed(lambda: copy_f32[n](x, y))
    finally:
        pk.set_device("auto")
    out = {"n": n, "saxpy_s": saxpy, "saxpy_GBps": 12 * n / saxpy / 1e9,
           "copy_kernel_s": copy, "copy_kernel_GBps": 8 * n / copy / 1e9}
    try:
        import cupy as cp
        a = cp.zeros(n, dtype=cp.float32)
        b = cp.empty_like(a)

        def memcpy():
            b.data.copy_from_device(a.data, a.nbytes)
            cp.cuda.Device().synchronize()
        d2d = timed(memcpy)
        out.update({"cupy_memcpy_d2d_s": d2d, "cupy_memcpy_d2d_GBps": 8 * n / d2d / 1e9})
    except ImportError:
        out["cupy_memcpy_d2d"] = "skipped: cupy not importable"
    report["bandwidth"] = out
    return (f"SAXPY {out['saxpy_GBps']:.0f} GB/s, copy kernel {out['copy_kernel_GBps']:.0f} GB/s"
            + (f", cudaMemcpy D2D {out['cupy_memcpy_d2d_GBps']:.0f} GB/s"
               if "cupy_memcpy_d2d_GBps" in out else ""))


def part_launch(native, report):
    need_cuda(native)
    x = pk.device_array(1, dtype=pk.f32)
    pk.set_device("cuda")
    try:
        empty_kernel[1](x)
        times = []
        for _ in range(2000):
            t = time.perf_counter()
            empty_kernel[1](x)
            times.append(time.perf_counter() - t)
    finally:
        pk.set_device("auto")
    times.sort()
    report["launch"] = {"min_us": times[0] * 1e6, "median_us": times[len(times) // 2] * 1e6}
    return (f"empty kernel, 1 element: median {report['launch']['median_us']:.1f} us, "
            f"min {report['launch']['min_us']:.1f} us (host side, launch + synchronize)")


def part_compile(native, report):
    need_cuda(native)
    code = r"""
import time, json, array
from pyhost import _kernels as pk
import _pyhost_kernels as m
@pk.kernel
def gpu_check_compile(a: pk.f64, x: pk.f64[:]):
    i = pk.tid()
    x[i] = a * x[i] + 1.0
x = array.array("d", [1.0])
pk.set_device("cuda")
t = time.perf_counter()
gpu_check_compile[1](2.0, x)
print(json.dumps({"s": time.perf_counter() - t, "stats": m.stats()}))
"""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "gpu_check_compile.py")  # kernels are read from a file
        with open(script, "w") as f:
            f.write(code)
        env = dict(os.environ, PYHOST_KERNEL_CACHE=os.path.join(tmp, "cache"),
                   PYTHONPATH=os.pathsep.join(sys.path))
        runs = []
        for _ in range(2):
            res = subprocess.run([sys.executable, script], env=env, capture_output=True,
                                 text=True, timeout=120)
            if res.returncode:
                raise RuntimeError(res.stderr.strip().splitlines()[-1])
            runs.append(json.loads(res.stdout))
    report["compile"] = {"cold_s": runs[0]["s"], "warm_s": runs[1]["s"],
                         "cold_compiled": runs[0]["stats"]["compiles"] == 1,
                         "warm_from_disk": runs[1]["stats"]["disk_hits"] == 1}
    c = report["compile"]
    return (f"cold NVRTC compile + load {c['cold_s'] * 1e3:.0f} ms, warm cache load "
            f"{c['warm_s'] * 1e3:.1f} ms")


def part_peers(native, report, n):
    need_cuda(native)
    import kernel_samples as ks
    out = {}
    x = pk.device_array(n, dtype=pk.f32)
    y = pk.device_array(n, dtype=pk.f32)
    w, h, it = 1920, 1080, 200
    img = pk.device_array((h, w), dtype=pk.i32)
    pk.set_device("cuda")
    try:
        out["pyhost saxpy_s"] = timed(lambda: ks.saxpy[n](2.0, x, y))
        out["pyhost mandelbrot_s"] = timed(lambda: ks.mandelbrot[w, h](img, -2.0, -1.2,
                                                                      2.8 / w, it))
    finally:
        pk.set_device("auto")
    try:
        from numba import cuda as ncuda
        import numba_peer_kernels as nk  # bench/numba_peer_kernels.py
    except ImportError as exc:
        out["numba-cuda"] = f"skipped: {exc}"
    else:
        if ncuda.is_available():
            out.update(nk.run(ncuda, n, w, h, it, timed))
        else:  # its own driver lookup: the stand-in driver is pyhost's, not numba's
            out["numba-cuda"] = "skipped: numba.cuda.is_available() is False"
    try:
        import cupy as cp
        if cp.cuda.runtime.getDeviceCount() < 1:
            raise ImportError("no device")
    except Exception as exc:  # noqa: BLE001 - CuPy raises its own errors without a driver
        out["cupy"] = f"skipped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    else:
        xc = cp.ones(n, dtype=cp.float32)
        yc = cp.ones(n, dtype=cp.float32)
        a = cp.float32(2.0)

        def cupy_saxpy():
            yc[...] = a * xc + yc
            cp.cuda.Device().synchronize()
        out["cupy saxpy_s"] = timed(cupy_saxpy)
    report["peers"] = out
    return ", ".join(f"{k} {v * 1e3:.3f} ms" if isinstance(v, float) else f"{k}: {v}"
                     for k, v in out.items())


# ---- driver ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=270, help="seconds for all parts")
    ap.add_argument("--n", type=int, default=1 << 26, help="elements of the bandwidth runs")
    ap.add_argument("--fake", action="store_true", help="the stand-in driver: small sizes")
    args = ap.parse_args()
    if args.fake:
        args.n = 1 << 16
    start = time.perf_counter()
    try:
        import _pyhost_kernels as native
    except ImportError as exc:
        print(f"gpu_check: the engine did not import: {exc}", file=sys.stderr)
        return 1
    report = {"parts": {}, "fake_driver": args.fake,
              "machine": {"node": platform.node(), "python": sys.version.split()[0]}}
    parts = [("status", lambda: part_status(native, report)),
             ("correctness", lambda: part_correctness(native, report)),
             ("examples", lambda: part_examples(native, report)),
             ("cuda_api", lambda: part_cuda_api(native, report)),
             ("bandwidth", lambda: part_bandwidth(native, report, args.n)),
             ("launch", lambda: part_launch(native, report)),
             ("compile", lambda: part_compile(native, report)),
             ("peers", lambda: part_peers(native, report, args.n))]
    failed = False
    for name, run in parts:
        if time.perf_counter() - start > args.budget:
            outcome, text = "skipped", "out of time (the 5-minute budget)"
        else:
            try:
                outcome, text = "ran", run()
            except Skip as exc:
                outcome, text = "skipped", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported, the other parts still run
                outcome, text = "error", f"{type(exc).__name__}: {exc}"
                report.setdefault("tracebacks", {})[name] = traceback.format_exc()
                failed = True
        if args.fake and outcome == "ran":
            # The stand-in driver loads the modules NVRTC built but runs no code: the driver
            # path is exercised, the results and figures mean nothing.
            outcome = "ran (stand-in)"
        elif outcome == "ran" and "FAILED" in text:
            failed = True
        report["parts"][name] = {"outcome": outcome, "summary": text}
        print(f"gpu_check: {name:12s} {outcome:8s} {text}", flush=True)
    report["seconds"] = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_check.json"), "w") as f:
        json.dump(report, f, indent=2, default=str)
    lines = ["| part | outcome | result |", "|---|---|---|"]
    if args.fake:
        lines.insert(0, "Stand-in driver (tests/kernel/fake_libcuda.c): kernels are compiled by "
                        "NVRTC and loaded, but nothing runs; the figures mean nothing.\n")
    lines += [f"| {k} | {v['outcome']} | {v['summary']} |" for k, v in report["parts"].items()]
    with open(os.path.join(args.out, "gpu_check.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"gpu_check: wrote {args.out}/gpu_check.json and gpu_check.md "
          f"({report['seconds']:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
