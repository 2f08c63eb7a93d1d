"""Benchmark: pyhost's sub-interpreters against CPython's own, on the version pyhost embeds (issue 24).

1. Worker start-up: `pyhost run --mode subinterpreters -j 1 --tasks 1 --json F -c pass`'s
   `worker_startup` (from the worker thread's start until it can take a task: an own-GIL
   sub-interpreter made and pyhost's task runner imported in it), and the same with -j 2 (the
   later of the two workers, made at once on 2 threads), against CPython's own
   `_interpreters.create()` of the same version in a fresh `python` (the first interpreter of the
   process, as pyhost's workers are), the first `exec` in it, and its `destroy()`; for -j 2, two
   created and exec'd at once on 2 threads in the same python (after the first).
2. CPython >= 3.14 only (`concurrent.futures.InterpreterPoolExecutor` is new in 3.14):
   `pyhost.Executor("subinterpreters")` against `InterpreterPoolExecutor`, both 2 workers, both
   in the same process: one `pyhost run --mode serial` of this file (`--inner`), the two taking
   turns in every round. The same `__main__` functions and calls go to both.
     * CPU-bound map, 8 calls of a pure-Python loop of about --task-s seconds, chunksize 1:
       start-up included (executor made, map, executor shut down) and warm (pools made before
       the rounds, the map alone);
     * dispatch: `list(ex.map(abs, range(N)))` on the warm pools, per call; pyhost at chunksize
       1 (one call a task, as InterpreterPoolExecutor's map does: its chunksize is ignored) and
       at its default chunksize.
   A control run of the stdlib's half from the plain `python` of the same version (no pyhost
   in the process) says whether running inside pyhost changes InterpreterPoolExecutor's figures.
Rounds are interleaved (ABAB: bench/timing.py); medians, ranges (min-max over the rounds) and
paired ratios (median and quartiles of the per-round ratio stdlib / pyhost: > 1, pyhost faster).

  python bench/bench_interpreter_pool.py [--pyhost build/pyhost] [--rounds 9] [--json F]

On Debian sid's 3.14/3.15 builds, run it inside the sid root of .ci/test-sid with that root's
python3.X and `--pyhost build-sid-3.X/pyhost`.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import cpu_model  # noqa: E402
from timing import interleaved_rounds, ratio_text, spread  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = 2
CPU_CALLS = 8


def spin(n):
    """The CPU-bound call: a pure-Python loop (a plain top-level function: both executors get
    it from this file's `__main__`)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


# ---- part 1: worker start-up ------------------------------------------------------------------

CREATE = r"""
import json, threading, time
try:
    import _interpreters as interpreters
except ImportError:  # 3.12
    import _xxsubinterpreters as interpreters
    interpreters.exec = interpreters.run_string
start = time.perf_counter()
first = interpreters.create()  # own GIL: 'isolated' (3.13+), isolated=True (3.12), the defaults
created = time.perf_counter()
interpreters.exec(first, "pass")
ran = time.perf_counter()
interpreters.destroy(first)
destroyed = time.perf_counter()

# Two at once, one per thread (as pyhost's -j 2 workers start): until the later can run code.
ids, ends = [None, None], [0.0, 0.0]
def make(k):
    ids[k] = interpreters.create()
    interpreters.exec(ids[k], "pass")
    ends[k] = time.perf_counter()
threads = [threading.Thread(target=make, args=(k,)) for k in range(2)]
both = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
two = max(ends) - both
for i in ids:
    interpreters.destroy(i)
print(json.dumps({"module": interpreters.__name__, "create": created - start,
                  "first_exec": ran - created, "destroy": destroyed - ran, "two_at_once": two}))
"""


def pyhost_startup(pyhost, workers):
    """The latest worker's start-up of one `pyhost run` of `-c pass` (seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        subprocess.run([pyhost, "run", "--mode", "subinterpreters", "-j", str(workers), "--tasks",
                        str(workers), "--json", report, "-c", "pass"], check=True,
                       capture_output=True)
        with open(report) as f:
            doc = json.load(f)
    starts = [w["startup_s"] for w in doc["worker_startup"]]
    if len(starts) != workers:
        raise SystemExit(f"expected {workers} worker_startup entries, got {doc['worker_startup']}")
    return max(starts)


def startup_rounds(pyhost, python, rounds):
    """{name: [seconds per round]}: pyhost's workers and CPython's create/exec/destroy, one of
    each per round in turn (one fresh process each)."""
    # Each process measures with its own clock (not the wall of the command); the three take
    # turns in every round.
    times = {"pyhost_j1": [], "pyhost_j2": [], "create": [], "first_exec": [], "destroy": [],
             "two_at_once": []}
    for _ in range(rounds):
        times["pyhost_j1"].append(pyhost_startup(pyhost, 1))
        times["pyhost_j2"].append(pyhost_startup(pyhost, 2))
        peer = json.loads(subprocess.run([python, "-c", CREATE], check=True, capture_output=True,
                                         text=True).stdout)
        times["module"] = peer["module"]
        for key in ("create", "first_exec", "destroy", "two_at_once"):
            times[key].append(peer[key])
    times["create_exec"] = [c + e for c, e in zip(times["create"], times["first_exec"])]
    times["create_destroy"] = [c + d for c, d in zip(times["create"], times["destroy"])]
    return times


# ---- part 2, inside one process: pyhost.Executor against InterpreterPoolExecutor ------------

def calibrate(task_s):
    """Loop length for one call of about task_s seconds on this interpreter (best of 3 timings
    of a loop long enough to time, scaled)."""
    n = 50000
    while True:
        took = min(timed(lambda: spin(n)) for _ in range(3))
        if took > 0.02:
            return max(1000, int(n * task_s / took))
        n *= 4


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def inner(args):
    """Runs under `pyhost run` (both executors) or plain python (--stdlib-only); writes
    {case: {executor: [seconds per round]}} to args.out."""
    import concurrent.futures as cf

    if not hasattr(cf, "InterpreterPoolExecutor"):
        raise SystemExit(f"concurrent.futures.InterpreterPoolExecutor does not exist in "
                         f"{platform.python_version()} (new in 3.14)")
    makers = {"stdlib": lambda: cf.InterpreterPoolExecutor(WORKERS)}
    if not args.stdlib_only:
        import pyhost
        makers["pyhost"] = lambda: pyhost.Executor("subinterpreters", workers=WORKERS)
    n = args.loop
    calls = [n] * CPU_CALLS
    expected = [spin(n)] * CPU_CALLS
    items = list(range(-args.dispatch_tasks // 2, args.dispatch_tasks - args.dispatch_tasks // 2))
    absolute = [abs(i) for i in items]

    def cold(make):
        def run():
            with make() as ex:
                assert list(ex.map(spin, calls, chunksize=1)) == expected
        return run

    pools = {name: make() for name, make in makers.items()}
    try:
        def warm(ex):
            return lambda: list(ex.map(spin, calls, chunksize=1))

        def dispatch(ex, **kw):
            def run():
                assert list(ex.map(abs, items, **kw)) == absolute
            return run

        # One call on this process's main thread, before the rounds: the floor of a map is
        # CPU_CALLS / WORKERS of these.
        results = {"loop": n, "one_call": [timed(lambda: spin(n)) for _ in range(5)]}
        # Cold: no untimed call before the timed one, each round a fresh executor.
        results["cold"] = interleaved_rounds({name: cold(make) for name, make in makers.items()},
                                             repeat=args.rounds, warm=0)
        results["warm"] = interleaved_rounds({name: warm(ex) for name, ex in pools.items()},
                                             repeat=args.rounds, warm=0)
        fns = {"stdlib": dispatch(pools["stdlib"])}
        if "pyhost" in pools:
            fns["pyhost"] = dispatch(pools["pyhost"], chunksize=1)
            fns["pyhost_default_chunksize"] = dispatch(pools["pyhost"])
        results["dispatch"] = interleaved_rounds(fns, repeat=args.rounds, warm=0)
    finally:
        for ex in pools.values():
            ex.shutdown()
    with open(args.out, "w") as f:
        json.dump(results, f)


def run_inner(command, args, loop):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "inner.json")
        subprocess.run([*command, os.path.abspath(__file__), "--inner", "--out", out, "--rounds",
                        str(args.rounds), "--task-s", str(args.task_s), "--dispatch-tasks",
                        str(args.dispatch_tasks), "--loop", str(loop),
                        *(["--stdlib-only"] if "--mode" not in command else [])],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


# ---- report ---------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhost", default=os.path.join(ROOT, "build", "pyhost"))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--task-s", type=float, default=0.05, help="seconds of one CPU-bound call")
    parser.add_argument("--loop", type=int, help="loop length of one CPU-bound call (else calibrated)")
    parser.add_argument("--dispatch-tasks", type=int, default=2000)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--json", help="write every sample here")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stdlib-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--calibrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return inner(args)
    if args.calibrate:
        return print(calibrate(args.task_s))

    pyhost = os.path.abspath(args.pyhost)
    info = json.loads(subprocess.run([pyhost, "info", "--json"], check=True, capture_output=True,
                                     text=True).stdout)
    python, version = info["executable"], info["python"]
    load = [os.getloadavg()[0]]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
          f"{os.cpu_count()} CPUs, CPython {version} ({python}), pyhost {pyhost}, "
          f"{args.rounds} rounds, load {load[0]:.2f}")
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu_model(),
              "cpus": os.cpu_count(), "python": version, "pyhost": pyhost, "rounds": args.rounds}

    if not args.skip_startup:
        t = startup_rounds(pyhost, python, args.rounds)
        report["startup_s"] = t
        print(f"worker start-up, ms, median (range) of {args.rounds}:")
        print(f"  pyhost sub-interpreter worker, -j 1: {spread(t['pyhost_j1'])}; -j 2 (the later "
              f"of 2): {spread(t['pyhost_j2'])}")
        print(f"  {t['module']}.create(): {spread(t['create'])}; + first exec('pass'): "
              f"{spread(t['create_exec'])}; destroy(): {spread(t['destroy'])}; create + destroy: "
              f"{spread(t['create_destroy'])}; 2 created + exec'd at once on 2 threads (the "
              f"later): {spread(t['two_at_once'])}")
        print(f"  pyhost -j 1 worker / create() (> 1: pyhost's worker takes longer), paired: {ratio_text(t['pyhost_j1'], t['create'])}; "
              f"/ (create + first exec): {ratio_text(t['pyhost_j1'], t['create_exec'])}; "
              f"/ (create + destroy): {ratio_text(t['pyhost_j1'], t['create_destroy'])}; -j 2 / 2 at "
              f"once: {ratio_text(t['pyhost_j2'], t['two_at_once'])}")
        load.append(os.getloadavg()[0])

    probe = subprocess.run([python, "-c", "import concurrent.futures as cf; "
                            "print(hasattr(cf, 'InterpreterPoolExecutor'))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if probe != "True":
        print(f"InterpreterPoolExecutor: not in CPython {version} (concurrent.futures."
              "InterpreterPoolExecutor is new in 3.14): the executor comparison does not apply")
    else:
        # One loop length for both processes, from the plain python of this version.
        loop = args.loop or int(subprocess.run(
            [python, os.path.abspath(__file__), "--calibrate", "--task-s", str(args.task_s)],
            check=True, capture_output=True, text=True).stdout)
        both = run_inner([pyhost, "run", "--mode", "serial"], args, loop)
        load.append(os.getloadavg()[0])
        plain = run_inner([python], args, loop)
        load.append(os.getloadavg()[0])
        report["executors_s"] = {"in_pyhost_run": both, "plain_python_stdlib": plain}
        per = 1e6 / args.dispatch_tasks
        print(f"2 workers, both executors in one `pyhost run --mode serial` process, taking turns; "
              f"{CPU_CALLS} calls of spin({loop}) (about {args.task_s} s each in plain python); one "
              f"call on the main thread: {spread(both['one_call'], digits=1)} ms in pyhost, "
              f"{spread(plain['one_call'], digits=1)} ms in plain python:")
        for case, label in (("cold", "CPU map, start-up included, ms"),
                            ("warm", "CPU map, warm pools, ms")):
            c = both[case]
            print(f"  {label}: pyhost.Executor {spread(c['pyhost'], digits=1)}, "
                  f"InterpreterPoolExecutor {spread(c['stdlib'], digits=1)} (plain python: "
                  f"{spread(plain[case]['stdlib'], digits=1)}); stdlib / pyhost paired "
                  f"{ratio_text(c['stdlib'], c['pyhost'])}")
        d = both["dispatch"]
        print(f"  dispatch, map(abs) of {args.dispatch_tasks}, us per call: pyhost.Executor "
              f"chunksize=1 {spread(d['pyhost'], per)}, default chunksize "
              f"{spread(d['pyhost_default_chunksize'], per, 3)}; InterpreterPoolExecutor "
              f"{spread(d['stdlib'], per)} (plain python: {spread(plain['dispatch']['stdlib'], per)}); "
              f"stdlib / pyhost chunksize=1 paired {ratio_text(d['stdlib'], d['pyhost'])}, "
              f"/ default {ratio_text(d['stdlib'], d['pyhost_default_chunksize'])}")
    report["load"] = load
    print(f"load average (1 min) along the run: {' '.join(f'{x:.2f}' for x in load)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
