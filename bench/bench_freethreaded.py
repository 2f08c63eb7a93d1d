"""Benchmark: free-threaded CPython (3.13t) against the default build, in one run.

  * the CPU-bound script (scripts/cpu_bound.py), 2 tasks on 2 workers: `--mode freethreaded`
    against `--mode threads` (target >= 1.8x), and sub-interpreters and processes on both builds;
  * what no GIL costs one thread: serial on pyhost-ft against serial on pyhost;
  * start-up (`run -c pass`) of both binaries.
Runs are interleaved (ABAB...) and medians reported. Run with the python pyhost embeds:
  .venv/bin/python bench/bench_freethreaded.py [--pyhost build/pyhost] [--repeat 5] [--steps N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cpu_bound.py")


def wall(binary, mode, steps, workers=2, tasks=2):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        subprocess.run([binary, "run", "--mode", mode, "-j", str(workers), "--tasks", str(tasks),
                        "--json", report, SCRIPT, str(steps)], check=True, capture_output=True)
        with open(report) as f:
            doc = json.load(f)
    return doc["wall_s"], doc.get("peak_rss_mb")


def startup(command, repeat=20):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhost", default=os.path.join(ROOT, "build", "pyhost"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10_000_000)
    args = parser.parse_args()
    pyhost = os.path.abspath(args.pyhost)
    ft = os.path.join(os.path.dirname(pyhost), "pyhost-ft")
    if not os.access(ft, os.X_OK):
        sys.exit(f"no free-threaded companion next to {pyhost}: `pyhost setup freethreaded` builds it")
    configs = {
        "threads (GIL)": (pyhost, "threads", 2),
        "freethreaded": (pyhost, "freethreaded", 2),
        "subinterpreters (default build)": (pyhost, "subinterpreters", 2),
        "subinterpreters (3.13t build)": (ft, "subinterpreters", 2),
        "processes (default build)": (pyhost, "processes", 2),
        "processes (3.13t build)": (ft, "processes", 2),
        "serial (default build)": (pyhost, "serial", 1),
        "serial (3.13t build)": (ft, "serial", 1),
    }
    runs = {name: [] for name in configs}
    rss = {}
    for _ in range(args.repeat):
        for name, (binary, mode, workers) in configs.items():
            seconds, mb = wall(binary, mode, args.steps, workers)
            runs[name].append(seconds)
            rss[name] = mb
    medians = {name: statistics.median(values) for name, values in runs.items()}
    print(f"# {args.steps} steps x 2 tasks, {args.repeat} runs each, load {os.getloadavg()[0]:.2f}")
    for name, value in medians.items():
        print(f"{name:34} {value:7.3f} s  (runs {', '.join(f'{v:.3f}' for v in runs[name])}; "
              f"RSS {rss[name]} MB)")
    print(f"freethreaded vs threads: {medians['threads (GIL)'] / medians['freethreaded']:.2f}x "
          "(target >= 1.8)")
    print(f"one thread without the GIL vs with it (serial, 2 tasks): "
          f"{medians['serial (3.13t build)'] / medians['serial (default build)']:.2f}x the time")
    py = subprocess.run([pyhost, "info", "--python-exe"], capture_output=True, text=True).stdout.strip()
    print(f"start-up run -c pass: pyhost {startup([pyhost, 'run', '-c', 'pass']):.1f} ms, "
          f"pyhost-ft {startup([ft, 'run', '-c', 'pass']):.1f} ms, "
          f"python {startup([py, '-c', 'pass']):.1f} ms")


if __name__ == "__main__":
    main()
