"""Benchmark: execution modes on the CPU-bound script, and start-up against plain python.

Measured in one run, as ratios (so a loaded or slow machine shifts them little):
  * wall of 2 tasks on 2 workers: sub-interpreters vs threads, vs serial (and processes when
    the build has it); plain CPython's own sub-interpreters (_interpreters) as the reference;
  * start-up: `pyhost run -c pass` vs `python -c pass`;
  * processes-mode worker start-up (until it can take a task) vs `python -c pass` and vs a
    spawned multiprocessing.Process (until it can run code).
Repeats are interleaved (ABCABC...) and medians reported. Run with the python pyhost embeds:
  .venv/bin/python bench/bench_modes.py [--pyhost build/pyhost] [--repeat 5] [--record]
--record appends the figures to bench/RESULTS.md with the machine, date and command.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cpu_bound.py")

REFERENCE = r"""
import sys, threading, time
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters
code = "total = 0\nfor i in range(N):\n    total += i * i % 7\n".replace("N", sys.argv[1])
def serial():
    ns = {}
    for _ in range(2):
        exec(code, ns)
def subinterpreters():
    ids = [interpreters.create() for _ in range(2)]
    threads = [threading.Thread(target=interpreters.exec, args=(i, code)) for i in ids]
    start = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    took = time.perf_counter() - start
    for i in ids: interpreters.destroy(i)
    return took
start = time.perf_counter(); serial(); s = time.perf_counter() - start
print(s / subinterpreters())
"""


def pyhost_wall(pyhost, mode, work):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        subprocess.run([pyhost, "run", "--mode", mode, "-j", "2", "--tasks", "2", "--json", report,
                        SCRIPT, str(work)], check=True, capture_output=True)
        with open(report) as f:
            return json.load(f)["wall_s"]


MP_SPAWN = r"""
import multiprocessing as mp, statistics, sys, time
def ready(conn):
    conn.send(time.perf_counter())
if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    times = []
    for _ in range(int(sys.argv[1])):
        parent, child = ctx.Pipe()
        start = time.perf_counter()
        p = ctx.Process(target=ready, args=(child,))
        p.start()
        times.append(parent.recv() - start)
        p.join()
    print(statistics.median(times))
"""


def worker_startup(pyhost):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        subprocess.run([pyhost, "run", "--mode", "processes", "-j", "1", "--tasks", "1", "--json", report,
                        "-c", "pass"], check=True, capture_output=True)
        with open(report) as f:
            return json.load(f)["worker_startup"][0]["startup_s"]


def command_time(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyhost", default=os.path.join(ROOT, "build", "pyhost"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=int, default=3_000_000)
    parser.add_argument("--modes", default="serial,threads,subinterpreters,processes")
    parser.add_argument("--record", action="store_true")
    opts = parser.parse_args()
    info = json.loads(subprocess.run([opts.pyhost, "info", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    python = info["executable"]
    modes = opts.modes.split(",")

    load_before = os.getloadavg()[0]
    walls = {mode: [] for mode in modes}
    for _ in range(opts.repeat):
        for mode in modes:
            walls[mode].append(pyhost_wall(opts.pyhost, mode, opts.work))
    median = {mode: statistics.median(v) for mode, v in walls.items()}
    reference = statistics.median(
        float(subprocess.run([python, "-c", REFERENCE, str(opts.work)], check=True,
                             capture_output=True, text=True).stdout)
        for _ in range(opts.repeat))

    startup = {"python": [], "pyhost": []}
    for _ in range(max(10, 4 * opts.repeat)):
        startup["python"].append(command_time([python, "-c", "pass"]))
        startup["pyhost"].append(command_time([opts.pyhost, "run", "-c", "pass"]))
    start_med = {k: statistics.median(v) for k, v in startup.items()}
    worker_med = None
    if "processes" in modes:
        worker_med = statistics.median(worker_startup(opts.pyhost) for _ in range(max(10, 4 * opts.repeat)))
        # From a file: spawned children import the parent's __main__, which `-c` code lacks.
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "mp_spawn.py")
            with open(script, "w") as f:
                f.write(MP_SPAWN)
            mp_med = float(subprocess.run([python, script, str(max(10, 4 * opts.repeat))], check=True,
                                          capture_output=True, text=True, timeout=300).stdout)

    lines = [f"| mode | median wall (s), 2 tasks / 2 workers | runs |", "|---|---|---|"]
    for mode in modes:
        lines.append(f"| {mode} | {median[mode]:.3f} | {', '.join(f'{w:.3f}' for w in walls[mode])} |")
    ratios = []
    if "subinterpreters" in median and "threads" in median:
        ratios.append(f"sub-interpreters vs threads: **{median['threads'] / median['subinterpreters']:.2f}x** (target >= 1.8)")
    if "subinterpreters" in median and "serial" in median:
        ratios.append(f"sub-interpreters vs serial: **{median['serial'] / median['subinterpreters']:.2f}x**")
    if "processes" in median and "threads" in median:
        ratios.append(f"processes vs threads: **{median['threads'] / median['processes']:.2f}x** (target >= 1.8)")
    ratios.append(f"reference, plain CPython `_interpreters` (2 on 2 threads) vs serial: {reference:.2f}x")
    ratios.append(f"start-up `pyhost run -c pass` / `python -c pass`: **{start_med['pyhost'] / start_med['python']:.2f}** "
                  f"({start_med['pyhost'] * 1e3:.1f} ms vs {start_med['python'] * 1e3:.1f} ms; target <= 1.2)")
    if worker_med is not None:
        ratios.append(f"processes-mode worker ready / `python -c pass`: **{worker_med / start_med['python']:.2f}** "
                      f"({worker_med * 1e3:.1f} ms; target <= 1.5); spawned multiprocessing.Process ready: "
                      f"{mp_med * 1e3:.1f} ms ({mp_med / worker_med:.2f}x the pyhost worker)")
    load_after = os.getloadavg()[0]
    report = "\n".join(lines + [""] + [f"- {r}" for r in ratios] +
                       [f"- load average before/after: {load_before:.2f} / {load_after:.2f}"])
    print(report)
    if opts.record:
        header = (f"\n## Execution modes, {datetime.date.today()}\n\n"
                  f"Machine: {platform.node()}, {os.cpu_count()} cores, {platform.machine()}, "
                  f"Python {info['python']}, pyhost {info['pyhost']}\n\n"
                  f"Command: `{' '.join([os.path.relpath(sys.executable, ROOT)] + sys.argv)}`\n\n")
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write(header + report + "\n")


if __name__ == "__main__":
    main()
