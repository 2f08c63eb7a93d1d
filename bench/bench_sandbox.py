"""Benchmark: what --sandbox costs (docs/sandbox.md).

Measured in one run, rounds interleaved (each round runs every variant once, so that all see the
same load on a shared machine), medians over the rounds:
  * worker start-up (spawn to the worker's Hello, from --json's worker_startup) of
    `pyhost run --mode processes -j1 --tasks T --fresh-workers -c pass`, without and with
    --sandbox (a fresh worker per task either way): the sandbox's cost per worker;
  * per-task cost with reused workers: the wall of `-j1 --tasks K -c pass` divided by K, plain
    processes against --sandbox --sandbox-reuse-workers (one confined worker for all K);
  * the peers: `python -c pass` and `bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc
    --die-with-parent python -c pass` (bubblewrap: `apt-get install bubblewrap`; its row is
    skipped when there is none).
Run with the python pyhost embeds:
  .venv/bin/python bench/bench_sandbox.py [--pyhost build/pyhost] [--rounds 7] [--json F]
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from machine import cpu_model




def run_json(pyhost, args):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        started = time.perf_counter()
        subprocess.run([pyhost, "run", "--json", out.name, *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        with open(out.name) as f:
            return wall, json.load(f)


def wall_of(command):
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyhost", default=os.path.join(os.path.dirname(__file__), "..", "build", "pyhost"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--startup-tasks", type=int, default=10)
    parser.add_argument("--reuse-tasks", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    pyhost = os.path.abspath(args.pyhost)
    python = sys.executable
    bwrap = shutil.which("bwrap")
    startup_cmd = ["--mode", "processes", "-j", "1", "--tasks", str(args.startup_tasks),
                   "--fresh-workers", "-c", "pass"]
    reuse_cmd = ["--mode", "processes", "-j", "1", "--tasks", str(args.reuse_tasks), "-c", "pass"]
    variants = {
        "startup_plain": lambda: run_json(pyhost, startup_cmd),
        "startup_sandbox": lambda: run_json(pyhost, ["--sandbox", *startup_cmd]),
        "reuse_plain": lambda: run_json(pyhost, reuse_cmd),
        "reuse_sandbox": lambda: run_json(pyhost, ["--sandbox", "--sandbox-reuse-workers", *reuse_cmd]),
        "python_c_pass": lambda: wall_of([python, "-c", "pass"]),
    }
    if bwrap:
        variants["bwrap_python_c_pass"] = lambda: wall_of(
            [bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--die-with-parent", python, "-c", "pass"])
    for fn in variants.values():  # warm the page cache
        fn()
    samples = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            result = fn()
            if name.startswith("startup"):
                samples[name] += [w["startup_s"] for w in result[1]["worker_startup"]]
            elif name.startswith("reuse"):
                samples[name].append(result[0] / args.reuse_tasks)
            else:
                samples[name].append(result)
    med = {name: statistics.median(values) for name, values in samples.items()}
    report = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
                    "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
        "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
        "rounds": args.rounds,
        "median_s": med,
        "samples": {name: len(values) for name, values in samples.items()},
        "sandbox_startup_added_ms": (med["startup_sandbox"] - med["startup_plain"]) * 1e3,
        "reuse_per_task_us": {"plain": med["reuse_plain"] * 1e6, "sandbox": med["reuse_sandbox"] * 1e6},
    }
    if bwrap:
        report["bwrap_added_ms"] = (med["bwrap_python_c_pass"] - med["python_c_pass"]) * 1e3
    print(f"worker start-up (median of {report['samples']['startup_plain']}):  plain "
          f"{med['startup_plain'] * 1e3:.1f} ms   --sandbox {med['startup_sandbox'] * 1e3:.1f} ms   "
          f"added {report['sandbox_startup_added_ms']:+.1f} ms")
    print(f"per task, reused worker ({args.reuse_tasks} tasks):  plain {med['reuse_plain'] * 1e6:.0f} us   "
          f"--sandbox --sandbox-reuse-workers {med['reuse_sandbox'] * 1e6:.0f} us")
    print(f"python -c pass: {med['python_c_pass'] * 1e3:.1f} ms", end="")
    if bwrap:
        print(f"   bwrap --unshare-all ... python -c pass: {med['bwrap_python_c_pass'] * 1e3:.1f} ms "
              f"(added {report['bwrap_added_ms']:+.1f} ms)")
    else:
        print("   (no bwrap: apt-get install bubblewrap)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
