"""``pyhost.cuda`` benchmark: Numba CUDA programs on pyhost's CPU device, against the same code on
Numba's CUDA simulator and against ``@njit(parallel=True)`` versions of the same algorithms.

Programs (scripts/numba_cuda):
  monte_carlo  the seed's pi program (pi.py): one xoroshiro128p generator per thread, float32
               draws; the @njit version runs numba.cuda.random's own generator functions (they
               are @jit functions) in a prange over the same states
  matmul       C = A @ B, float32, one thread per element (matmul.py's plain kernel) and the
               tiled shared-memory kernel; @njit: prange over rows, the same k loop
  guide        (--guide) the round-two programs against @njit(parallel=True) equivalents, in
               interleaved rounds (bench/timing.py), each ratio paired within its round:
               the shared-memory tree reduction (tree_reduction.py) and cuda.reduce against a
               prange sum, the cooperative dependent-row updates (grid_sync.py, one grid sync
               per row) against a prange per row, and a @cuda.vectorize ufunc (vectorize.py)
               against a prange loop of the same formula
Times: best of --repeat runs after a warm-up (compile excluded); the simulator runs a smaller
problem once (it is orders of magnitude slower) and its time is scaled by the work.

    PYTHONPATH=runtime:build/python python bench/bench_numba_cuda.py [--quick] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("PYHOST_DEVICE", "cpu")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "runtime"))
sys.path.insert(0, os.path.join(REPO, "scripts", "numba_cuda"))

import numpy as np  # noqa: E402


def best(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


_SIM = r"""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
src = open(sys.argv[2]).read().replace("from pyhost import cuda", "from numba import cuda")
src = src.replace("from pyhost.cuda.random", "from numba.cuda.random")
mod = {"__name__": "sim"}
exec(compile(src, sys.argv[2], "exec"), mod)
what, args = sys.argv[3], [int(a) for a in sys.argv[4:]]
t = time.perf_counter()
if what == "pi":
    mod["run"](args[0], threads_per_block=args[1], blocks=args[2])
else:
    mod["run"](args[0], shared=bool(args[1]))
print(time.perf_counter() - t)
"""


def simulator(script, what, *args):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", _SIM,
                          os.path.join(REPO, "scripts", "numba_cuda"),
                          os.path.join(REPO, "scripts", "numba_cuda", script), what,
                          *map(str, args)], env=env, capture_output=True, text=True,
                         timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.split()[-1])


def njit_versions():
    from numba import njit, prange
    from numba.cuda.random import xoroshiro128p_uniform_float32

    @njit(parallel=True)
    def pi_njit(states, iterations, out):
        for t in prange(out.shape[0]):
            inside = 0
            for i in range(iterations):
                x = xoroshiro128p_uniform_float32(states, t)
                y = xoroshiro128p_uniform_float32(states, t)
                if x ** 2 + y ** 2 <= 1.0:
                    inside += 1
            out[t] = 4.0 * inside / iterations

    @njit(parallel=True)
    def matmul_njit(A, B, C):
        for i in prange(C.shape[0]):
            for j in range(C.shape[1]):
                tmp = 0.
                for k in range(A.shape[1]):
                    tmp += A[i, k] * B[k, j]
                C[i, j] = tmp
    return pi_njit, matmul_njit


def guide(opts):
    """The round-two programs against @njit(parallel=True), paired in interleaved rounds."""
    sys.path.insert(0, HERE)
    from numba import njit, prange
    from timing import interleaved_rounds, paired_ratio
    import cuda_reduce
    import grid_sync
    import tree_reduction
    import vectorize

    @njit(parallel=True)
    def sum_njit(a):
        acc = 0.0
        for i in prange(a.shape[0]):
            acc += a[i]
        return acc

    @njit(parallel=True)
    def rows_njit(m):
        rows, cols = m.shape
        for row in range(1, rows):
            for col in prange(cols):
                m[row, col] = m[row - 1, cols - 1 - col] + 1 + row % 2

    @njit(parallel=True)
    def rel_diff_njit(a, b):   # a new result per call, as a ufunc call gives
        out = np.empty_like(a)
        for i in prange(a.shape[0]):
            out[i] = abs(a[i] - b[i]) / (abs(a[i]) + abs(b[i]) + np.float32(1e-9))
        return out

    n = 1_000_000 if opts.quick else 4_000_000
    rng = np.random.default_rng(0)
    data = rng.random(n)
    tpb = tree_reduction.TPB
    partial = np.zeros((n + tpb - 1) // tpb)

    def tree():
        tree_reduction.block_sums_while[partial.size, tpb](data, partial)
        return partial.sum()
    rows, cols, bdim = 1024, 1024, 32
    m1 = np.zeros((rows, cols), dtype=np.int32)
    m2 = np.zeros_like(m1)

    def coop():
        grid_sync.mirrored_rows[cols // bdim, bdim](m1)
    a32, b32 = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    cases = {
        "reduction": {"pyhost.cuda tree_reduction": tree,
                      "pyhost.cuda cuda.reduce": lambda: cuda_reduce.sum_reduce(data),
                      "numba @njit(parallel)": lambda: sum_njit(data)},
        "cooperative rows": {"pyhost.cuda grid_sync": coop,
                             "numba @njit(parallel)": lambda: rows_njit(m2)},
        "vectorize": {"pyhost.cuda @cuda.vectorize": lambda: vectorize.rel_diff(a32, b32),
                      "numba @njit(parallel)": lambda: rel_diff_njit(a32, b32)},
    }
    sizes = {"reduction": f"{n / 1e6:.0f}M f64", "cooperative rows": f"{rows}x{cols} i32",
             "vectorize": f"{n / 1e6:.0f}M f32"}
    rows_out = []
    for case, fns in cases.items():
        times = interleaved_rounds(fns, repeat=opts.repeat, warm=1)
        peer = times["numba @njit(parallel)"]
        for name, ts in times.items():
            med = sorted(ts)[len(ts) // 2]
            line = f"{case:17} {sizes[case]:12} {name:30} median {med * 1e3:8.2f} ms"
            if name != "numba @njit(parallel)":
                r, lo, hi = paired_ratio(peer, ts)
                lo_all, hi_all = min(p / t for p, t in zip(peer, ts)), \
                    max(p / t for p, t in zip(peer, ts))
                line += (f"  numba/pyhost paired {r:.2f} (quartiles {lo:.2f}-{hi:.2f}, "
                         f"range {lo_all:.2f}-{hi_all:.2f})")
            print(line, flush=True)
            rows_out.append(dict(program=case, size=sizes[case], runner=name,
                                 median_s=med, rounds=ts))
    return rows_out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json")
    ap.add_argument("--no-sim", action="store_true")
    ap.add_argument("--guide", action="store_true",
                    help="only the round-two programs against @njit(parallel) (paired ratios)")
    opts = ap.parse_args()
    if opts.guide:
        rows = guide(opts)
        if opts.json:
            with open(opts.json, "w") as f:
                json.dump(rows, f, indent=1)
        return
    import pi
    import matmul
    from pyhost.cuda.random import create_xoroshiro128p_states
    rows = []
    tpb, blocks = 64, 256
    iters = 500 if opts.quick else 4000
    n = tpb * blocks
    samples = 2 * n * iters

    def pyhost_pi():
        states = create_xoroshiro128p_states(n, seed=1)
        out = np.zeros(n, dtype=np.float32)
        pi.compute_pi[blocks, tpb](states, iters, out)
        return out
    pyhost_states = create_xoroshiro128p_states(n, seed=1)
    out = np.zeros(n, dtype=np.float32)

    def pyhost_pi_kernel():  # the kernel only (state creation is the same host code for both)
        pi.compute_pi[blocks, tpb](pyhost_states, iters, out)
    rows.append(("monte_carlo", f"{samples / 1e6:.0f}M draws", "pyhost.cuda (CPU)",
                 best(pyhost_pi_kernel, opts.repeat)))
    try:
        pi_njit, matmul_njit = njit_versions()
    except ImportError:
        pi_njit = matmul_njit = None
    if pi_njit is not None:
        from numba.cuda.random import xoroshiro128p_dtype
        # numba's host states need a GPU; pyhost's are the same numbers (the tests check it)
        st = create_xoroshiro128p_states(n, seed=1)._a.view(np.uint64).copy()
        st = st.view(xoroshiro128p_dtype).reshape(n)
        o2 = np.zeros(n, dtype=np.float32)
        rows.append(("monte_carlo", f"{samples / 1e6:.0f}M draws", "numba @njit(parallel)",
                     best(lambda: pi_njit(st, iters, o2), opts.repeat)))
    if not opts.no_sim:
        sim_iters = 20
        t = simulator("pi.py", "pi", sim_iters, tpb, 4)
        rows.append(("monte_carlo", f"{samples / 1e6:.0f}M draws", "numba CUDA simulator "
                     "(scaled)", t * (n * iters) / (tpb * 4 * sim_iters)))

    size = 256 if opts.quick else 512
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    c = np.zeros((size, size), dtype=np.float32)
    g = (size + matmul.TPB - 1) // matmul.TPB
    for name, k in (("pyhost.cuda (CPU), plain kernel", matmul.matmul),
                    ("pyhost.cuda (CPU), shared-memory kernel", matmul.fast_matmul)):
        rows.append(("matmul", f"{size}x{size} f32", name,
                     best(lambda k=k: k[(g, g), (matmul.TPB, matmul.TPB)](a, b, c),
                          opts.repeat)))
    if matmul_njit is not None:
        c2 = np.zeros_like(c)
        rows.append(("matmul", f"{size}x{size} f32", "numba @njit(parallel)",
                     best(lambda: matmul_njit(a, b, c2), opts.repeat)))
    if not opts.no_sim:
        sim = 32
        for shared in (0, 1):
            t = simulator("matmul.py", "matmul", sim, shared)
            rows.append(("matmul", f"{size}x{size} f32",
                         f"numba CUDA simulator (scaled), {'shared' if shared else 'plain'}",
                         t * (size / sim) ** 3))
    for r in rows:
        print(f"{r[0]:12} {r[1]:16} {r[2]:45} {r[3]:10.4f} s")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump([dict(program=r[0], size=r[1], runner=r[2], seconds=r[3]) for r in rows],
                      f, indent=1)


if __name__ == "__main__":
    main()
