"""Benchmark: pyhost.Executor("subinterpreters") made by a plain python (the
`_pyhost_subinterpreters` extension, no `pyhost run`) against concurrent.futures'
ProcessPoolExecutor, both 2 workers, both in this one process, taking turns in every round.

  * CPU-bound map: 8 calls of a pure-Python loop of about --task-s seconds, chunksize 1; start-up
    included (executor made, map, shut down) and warm (pools made before the rounds);
  * dispatch: `list(ex.map(abs, range(N)))` on the warm pools, per call: pyhost at chunksize 1
    and at its default; ProcessPoolExecutor at chunksize 1 (its default) and N / 8.
ProcessPoolExecutor starts its workers with forkserver (3.14's default on Linux; 3.13's fork
warns in a process that has threads, as this one has once pyhost's executor exists).
Rounds are interleaved (bench/timing.py); medians, ranges and paired ratios (median and quartiles
of the per-round ratio ProcessPoolExecutor / pyhost: > 1, pyhost faster).

  python bench/bench_plain_python_executor.py [--build build] [--rounds 9] [--json F]

Run with the plain python of the CPython the build embeds (the extension is built for it).
"""
import argparse
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from machine import cpu_model  # noqa: E402
from timing import interleaved_rounds, ratio_text, spread  # noqa: E402

WORKERS = 2
CPU_CALLS = 8


def spin(n):
    """The CPU-bound call: a pure-Python loop (top level: both executors find it in __main__)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calibrate(task_s):
    n = 50000
    while True:
        took = min(timed(lambda: spin(n)) for _ in range(3))
        if took > 0.02:
            return max(1000, int(n * task_s / took))
        n *= 4



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--task-s", type=float, default=0.05)
    parser.add_argument("--dispatch-tasks", type=int, default=2000)
    parser.add_argument("--json")
    args = parser.parse_args()
    sys.path[1:1] = [os.path.join(ROOT, "runtime"), os.path.join(os.path.abspath(args.build), "python")]
    import pyhost

    context = multiprocessing.get_context("forkserver")
    makers = {"pyhost": lambda: pyhost.Executor("subinterpreters", workers=WORKERS),
              "processpool": lambda: ProcessPoolExecutor(WORKERS, mp_context=context)}
    with makers["pyhost"]() as probe:
        if probe.mode != "subinterpreters":
            raise SystemExit(f"pyhost.Executor runs {probe.mode!r} here: no _pyhost_subinterpreters "
                             f"for this python in {args.build}/python")
    load = [os.getloadavg()[0]]
    loop = calibrate(args.task_s)
    calls = [loop] * CPU_CALLS
    expected = [spin(loop)] * CPU_CALLS
    items = list(range(-args.dispatch_tasks // 2, args.dispatch_tasks - args.dispatch_tasks // 2))
    absolute = [abs(i) for i in items]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
          f"{os.cpu_count()} CPUs, plain CPython {platform.python_version()} ({sys.executable}), "
          f"{args.rounds} rounds, load {load[0]:.2f}; {CPU_CALLS} calls of spin({loop})")

    def cold(make):
        def run():
            with make() as ex:
                assert list(ex.map(spin, calls, chunksize=1)) == expected
        return run

    results = {"loop": loop, "one_call": [timed(lambda: spin(loop)) for _ in range(5)]}
    results["cold"] = interleaved_rounds({name: cold(make) for name, make in makers.items()},
                                         repeat=args.rounds, warm=0)
    load.append(os.getloadavg()[0])
    pools = {name: make() for name, make in makers.items()}
    try:
        def warm(ex):
            return lambda: list(ex.map(spin, calls, chunksize=1))

        def dispatch(ex, **kw):
            def run():
                assert list(ex.map(abs, items, **kw)) == absolute
            return run

        results["warm"] = interleaved_rounds({name: warm(ex) for name, ex in pools.items()},
                                             repeat=args.rounds, warm=0)
        load.append(os.getloadavg()[0])
        results["dispatch"] = interleaved_rounds({
            "pyhost": dispatch(pools["pyhost"], chunksize=1),
            "pyhost_default_chunksize": dispatch(pools["pyhost"]),
            "processpool": dispatch(pools["processpool"], chunksize=1),
            "processpool_chunked": dispatch(pools["processpool"], chunksize=len(items) // 8),
        }, repeat=args.rounds, warm=0)
        load.append(os.getloadavg()[0])
    finally:
        for ex in pools.values():
            ex.shutdown()

    print(f"one call on the main thread: {spread(results['one_call'], digits=1)} ms")
    for case, label in (("cold", "CPU map, start-up included, ms"), ("warm", "CPU map, warm pools, ms")):
        c = results[case]
        print(f"  {label}: pyhost.Executor {spread(c['pyhost'], digits=1)}, ProcessPoolExecutor "
              f"{spread(c['processpool'], digits=1)}; ProcessPoolExecutor / pyhost paired "
              f"{ratio_text(c['processpool'], c['pyhost'])}")
    d = results["dispatch"]
    per = 1e6 / args.dispatch_tasks
    print(f"  dispatch, map(abs) of {args.dispatch_tasks}, us per call: pyhost.Executor chunksize=1 "
          f"{spread(d['pyhost'], per)}, default {spread(d['pyhost_default_chunksize'], per, 3)}; "
          f"ProcessPoolExecutor chunksize=1 {spread(d['processpool'], per)}, chunksize="
          f"{len(items) // 8} {spread(d['processpool_chunked'], per, 3)}; paired ProcessPool / "
          f"pyhost, both chunksize=1: {ratio_text(d['processpool'], d['pyhost'])}; chunked / "
          f"default: {ratio_text(d['processpool_chunked'], d['pyhost_default_chunksize'])}")
    print(f"load average (1 min) along the run: {' '.join(f'{x:.2f}' for x in load)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load": load, **results}, f, indent=1)


if __name__ == "__main__":
    main()
