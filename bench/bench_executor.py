"""pyhost.Executor against concurrent.futures: per-task dispatch overhead and CPU-bound speedup.

Run it through pyhost (the executors need the host):
    build/pyhost run bench/bench_executor.py [--tasks 20000] [--repeat 5] [--record]
    [--only-dispatch | --only-ready]

1. Dispatch overhead: wall time of `list(ex.map(identity, range(N)))` / N on 2 workers, for
   pyhost.Executor in each mode (default chunksize and chunksize=1) and for the stdlib's
   ThreadPoolExecutor and ProcessPoolExecutor (chunksize=1, their default). Best of --repeat.
2. CPU-bound map: 4 calls of a pure-Python loop on 2 workers; speedup of each mode over threads
   (ratios from one run, median of --repeat).
3. Ready time: from Executor() to the first result, per mode (median and best of
   --ready-repeat rounds, the modes taking turns; ProcessPoolExecutor forks); then the same for
   the first executor of a fresh script (--cold-repeat runs), before any fork server is up; and
   for process executors of N = 1, 2, 8, 32 workers, to the first result and to 4N calls done
   (run it again with PYHOST_EXECUTOR_FORKSERVER=0 for workers started afresh).
--record appends the figures to bench/RESULTS.md with the machine, date and command.
"""
import argparse
import concurrent.futures as cf
import datetime
import os
import platform
import statistics
import sys
import time

import pyhost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("subinterpreters", "processes", "threads")


def identity(x):
    return x


def spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def per_task_us(make, tasks, repeat, chunksize):
    times = []
    with make() as ex:
        kwargs = {} if chunksize == "stdlib" else {"chunksize": chunksize}
        list(ex.map(identity, range(min(tasks, 2000)), **kwargs))  # warm: workers up, code loaded
        for _ in range(repeat):
            start = time.perf_counter()
            result = list(ex.map(identity, range(tasks), **kwargs))
            times.append(time.perf_counter() - start)
            assert result == list(range(tasks))
    return min(times) / tasks * 1e6


def cpu_bound_s(mode, repeat, work):
    times = []
    with pyhost.Executor(mode, workers=2) as ex:
        ex.submit(spin, 10).result()
        for _ in range(repeat):
            start = time.perf_counter()
            list(ex.map(spin, [work] * 4, chunksize=1))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def ready_ms(mode):
    start = time.perf_counter()
    make = (lambda: cf.ProcessPoolExecutor(2)) if mode == "ProcessPoolExecutor" else \
        (lambda: pyhost.Executor(mode, workers=2))
    with make() as ex:
        ex.submit(identity, 1).result()
        ready = time.perf_counter() - start
    return ready * 1e3


def measure_ready(rounds):
    """Median and best ready_ms per mode. Start-up is short and the machine noisy: many rounds,
    the modes taking turns."""
    runs = {mode: [] for mode in (*MODES, "ProcessPoolExecutor")}
    for _ in range(rounds):
        for mode, times in runs.items():
            times.append(ready_ms(mode))
    return ({mode: statistics.median(t) for mode, t in runs.items()},
            {mode: min(t) for mode, t in runs.items()}, rounds)


COLD = """
import time, concurrent.futures as cf, concurrent.futures.process, subprocess, socket, mmap
import pyhost
pyhost.Executor  # its modules imported before the clock starts, as in the warm rounds
def identity(x):
    return x
if __name__ == "__main__":
    start = time.perf_counter()
    with (cf.ProcessPoolExecutor({workers}) if {mode!r} == "ProcessPoolExecutor" else
          pyhost.Executor({mode!r}, workers={workers})) as ex:
        futures = [ex.submit(identity, i) for i in range(4 * {workers})]
        futures[0].result()
        first = time.perf_counter()
        for future in futures:
            future.result()
        print((first - start) * 1e3, (time.perf_counter() - start) * 1e3)
"""


def measure_cold(rounds):
    """The same, for the first executor of a fresh `pyhost run` (2 workers; and 8, where a fork
    server starts while the first two start afresh), one process per round, the executors
    taking turns: median ms to the first result and to 4N calls done."""
    import subprocess
    import tempfile

    kinds = {"subinterpreters": 2, "processes": 2, "processes x8": 8, "ProcessPoolExecutor": 2,
             "ProcessPoolExecutor x8": 8}
    runs = {kind: [] for kind in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for kind, workers in kinds.items():  # a file, not -c: workers find `identity` in it
            mode = kind.split()[0]
            paths[kind] = os.path.join(tmp, f"{mode}{workers}.py")
            with open(paths[kind], "w") as f:
                f.write(COLD.format(mode=mode, workers=workers))
        for _ in range(rounds):
            for kind, times in runs.items():
                out = subprocess.run([os.readlink("/proc/self/exe"), "run", paths[kind]],
                                     capture_output=True, text=True, check=True).stdout
                times.append(tuple(float(v) for v in out.split()[-2:]))
    return {kind: (statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
            for kind, times in runs.items()}


def cold_line(cold, rounds):
    return (f"First executor of a fresh script, 2 workers unless xN (median of {rounds}; first "
            "result / 4N calls done): " +
            ", ".join(f"{kind} {a:.1f} / {b:.1f} ms" for kind, (a, b) in cold.items()))


def measure_scaling(rounds, sizes=(1, 2, 8, 32)):
    """Executor("processes", workers=N): median ms to the first result and to 4N calls done,
    after a first executor (so that a fork server, unless PYHOST_EXECUTOR_FORKSERVER=0, is up)."""
    with pyhost.Executor("processes", workers=1) as ex:
        ex.submit(identity, 0).result()
    figures = {}
    for n in sizes:
        first, done = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            with pyhost.Executor("processes", workers=n) as ex:
                futures = [ex.submit(identity, i) for i in range(4 * n)]
                futures[0].result()
                first.append(time.perf_counter() - start)
                for future in futures:
                    future.result()
                done.append(time.perf_counter() - start)
        figures[n] = (statistics.median(first) * 1e3, statistics.median(done) * 1e3)
    return figures


def scaling_line(figures, rounds):
    forkserver = os.environ.get("PYHOST_EXECUTOR_FORKSERVER", "1")
    return (f"processes executor with N workers, PYHOST_EXECUTOR_FORKSERVER={forkserver} (median of "
            f"{rounds}; first result / 4N calls done): " +
            ", ".join(f"N={n} {a:.1f} / {b:.1f} ms" for n, (a, b) in figures.items()))


def ready_line(ready, best, rounds):
    return (f"Executor() to first result, 2 workers (median / best of {rounds}): " +
            ", ".join(f"{mode} {ms:.1f} / {best[mode]:.1f} ms" for mode, ms in ready.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=int, default=1_500_000, help="loop length of one CPU-bound call")
    parser.add_argument("--ready-repeat", type=int, default=15, help="rounds of the start-up measure")
    parser.add_argument("--cold-repeat", type=int, default=7,
                        help="fresh scripts per mode for the first executor's start-up")
    parser.add_argument("--only-ready", action="store_true", help="measure the start-up only")
    parser.add_argument("--only-dispatch", action="store_true",
                        help="measure the dispatch overhead only (pyhost modes and ThreadPoolExecutor)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    if args.only_ready:
        ready, ready_best, rounds = measure_ready(args.ready_repeat)
        print(ready_line(ready, ready_best, rounds))
        print(cold_line(measure_cold(args.cold_repeat), args.cold_repeat))
        print(scaling_line(measure_scaling(args.cold_repeat), args.cold_repeat))
        return
    rows = []
    for mode in MODES:
        auto = per_task_us(lambda: pyhost.Executor(mode, workers=2), args.tasks, args.repeat, None)
        one = per_task_us(lambda: pyhost.Executor(mode, workers=2), args.tasks, args.repeat, 1)
        rows.append((f"pyhost.Executor {mode}", auto, one))
    tpe = per_task_us(lambda: cf.ThreadPoolExecutor(2), args.tasks, args.repeat, "stdlib")
    if args.only_dispatch:
        for name, auto, one in rows + [("concurrent.futures.ThreadPoolExecutor", None, tpe)]:
            auto_text = "-" if auto is None else f"{auto:.2f}"
            print(f"{name}: map default chunksize {auto_text} us/task, chunksize=1 {one:.2f} us/task")
        return
    ppe_tasks = max(1000, args.tasks // 4)  # it is slow: fewer tasks keep the run short
    ppe = per_task_us(lambda: cf.ProcessPoolExecutor(2), ppe_tasks, args.repeat, 1)
    ppe_auto = per_task_us(lambda: cf.ProcessPoolExecutor(2), ppe_tasks, args.repeat,
                           max(1, ppe_tasks // 8))
    rows.append(("concurrent.futures.ThreadPoolExecutor", None, tpe))
    rows.append(("concurrent.futures.ProcessPoolExecutor", ppe_auto, ppe))

    cpu = {mode: cpu_bound_s(mode, args.repeat, args.work) for mode in MODES}
    ready, ready_best, rounds = measure_ready(args.ready_repeat)
    load_after = os.getloadavg()[0]

    lines = ["| executor (2 workers) | map, default chunksize (us/task) | map, chunksize=1 (us/task) |",
             "|---|---:|---:|"]
    for name, auto, one in rows:
        auto_text = "-" if auto is None else f"{auto:.2f}"
        lines.append(f"| {name} | {auto_text} | {one:.2f} |")
    lines.append("")
    lines.append("(ProcessPoolExecutor's default column is chunksize = tasks/8, as Pool.map would pick.)")
    lines.append("")
    lines.append(f"CPU-bound map, 4 calls of {args.work:,} loop steps on 2 workers (median of {args.repeat}):")
    for mode in MODES:
        lines.append(f"- {mode}: {cpu[mode]:.3f} s, {cpu['threads'] / cpu[mode]:.2f}x threads")
    lines.append("")
    lines.append(ready_line(ready, ready_best, rounds))
    lines.append(cold_line(measure_cold(args.cold_repeat), args.cold_repeat))
    lines.append("")
    lines.append(f"- sub-interpreters dispatch: {rows[0][1]:.2f} us/task default, {rows[0][2]:.2f} chunksize=1 "
                 "(target <= 10)")
    lines.append(f"- processes dispatch: {rows[1][1]:.2f} us/task default, {rows[1][2]:.2f} chunksize=1 "
                 "(target <= 25)")
    lines.append(f"- CPU-bound vs threads: sub-interpreters {cpu['threads'] / cpu['subinterpreters']:.2f}x, "
                 f"processes {cpu['threads'] / cpu['processes']:.2f}x (target >= 1.8)")
    lines.append(f"- load average before/after: {load_before:.2f} / {load_after:.2f}")
    text = "\n".join(lines)
    print(text)
    if args.record:
        header = [f"## pyhost.Executor, {datetime.date.today().isoformat()}", "",
                  f"Machine: {platform.node()}, {os.cpu_count()} cores, {platform.machine()}, "
                  f"Python {platform.python_version()}", "",
                  f"Command: `build/pyhost run bench/bench_executor.py {' '.join(sys.argv[1:])}`", ""]
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write("\n" + "\n".join(header) + text + "\n")


if __name__ == "__main__":
    main()
