"""Benchmark: what --sandbox costs (docs/sandbox.md).

Measured in one run, rounds interleaved (each round runs every variant once, so that all see the
same load on a shared machine), medians over the rounds:
  * worker start-up (spawn to the worker's Hello, from --json's worker_startup) of
    `pyhost run --mode processes -j1 --tasks T --fresh-workers -c pass`, without and with
    --sandbox (a fresh worker per task either way): the sandbox's cost per worker;
  * per-task cost with reused workers, `-j1 --tasks K -c pass`, plain processes against --sandbox
    --sandbox-reuse-workers (one confined worker for all K), two ways: the wall divided by K (what
    the first rows of RESULTS.md give: it carries the worker's start-up, the first task's imports
    and the worker's exit, K times less), and the steady cost a task, from the run's own --json
    timeline: the median time from a task's start to the next's, from the second task on; with
    each round's ratio sandboxed / plain (the pair ran back to back), median and range;
  * --baseline OTHER_PYHOST: the same per-task pair for another build (before/after a change);
  * --syscalls: bench/sandbox_syscall_cost.py (ns a getppid, a stat, an open+close) as a task of a
    reused worker, plain and sandboxed, and its peers: plain python under no filter, a one-
    instruction seccomp filter, a 60-entry one, Landlock, Landlock + seccomp;
  * the peers: `python -c pass` and `bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc
    --die-with-parent python -c pass` (bubblewrap: `apt-get install bubblewrap`; its row is
    skipped when there is none).
Run with the python pyhost embeds:
  .venv/bin/python bench/bench_sandbox.py [--pyhost build/pyhost] [--rounds 7] [--json F]
      [--per-task-only] [--baseline OTHER_PYHOST] [--syscalls]
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


def steady_per_task(doc):
    """The median time from one task's start to the next's, from the second task on: without the
    worker's start-up, the first task's imports and the worker's exit, and (a median) without
    the moments another process of a loaded machine took the CPU."""
    starts = sorted(t["start_s"] for t in doc["tasks"])
    return statistics.median(b - a for a, b in zip(starts[1:], starts[2:]))


def json_line(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("{")))


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
    parser.add_argument("--per-task-only", action="store_true",
                        help="only the per-task rows (reused workers), not start-up or the peers")
    parser.add_argument("--baseline", metavar="OTHER_PYHOST",
                        help="also the per-task rows of another build, in the same rounds")
    parser.add_argument("--syscalls", action="store_true",
                        help="also ns a system call: in a worker, and under each mechanism alone")
    args = parser.parse_args()
    pyhost = os.path.abspath(args.pyhost)
    python = sys.executable
    bwrap = shutil.which("bwrap")
    startup_cmd = ["--mode", "processes", "-j", "1", "--tasks", str(args.startup_tasks),
                   "--fresh-workers", "-c", "pass"]
    reuse_cmd = ["--mode", "processes", "-j", "1", "--tasks", str(args.reuse_tasks), "-c", "pass"]
    variants = {}
    if not args.per_task_only:
        variants["startup_plain"] = lambda: run_json(pyhost, startup_cmd)
        variants["startup_sandbox"] = lambda: run_json(pyhost, ["--sandbox", *startup_cmd])
    builds = {"": pyhost}
    if args.baseline:
        builds["baseline_"] = os.path.abspath(args.baseline)
    for prefix, build in builds.items():
        variants[prefix + "reuse_plain"] = lambda build=build: run_json(build, reuse_cmd)
        variants[prefix + "reuse_sandbox"] = lambda build=build: run_json(
            build, ["--sandbox", "--sandbox-reuse-workers", *reuse_cmd])
    if not args.per_task_only:
        variants["python_c_pass"] = lambda: wall_of([python, "-c", "pass"])
        if bwrap:
            variants["bwrap_python_c_pass"] = lambda: wall_of(
                [bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                 "--die-with-parent", python, "-c", "pass"])
    if args.syscalls:
        cost = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_syscall_cost.py")
        task = ["run", "--mode", "processes", "-j", "1", cost]
        variants["syscalls_task_plain"] = lambda: json_line([pyhost, *task])
        variants["syscalls_task_sandbox"] = lambda: json_line(
            [pyhost, task[0], "--sandbox", "--sandbox-reuse-workers", *task[1:]])
        for how in ("none", "seccomp-1", "seccomp-60", "landlock", "landlock+seccomp-60"):
            variants["syscalls_peer_" + how] = lambda how=how: json_line(
                [python, cost, "--confine", how])
    for fn in variants.values():  # warm the page cache
        fn()
    samples = {name: [] for name in variants}
    steady = {name: [] for name in variants if "reuse" in name}
    syscalls = {name: {} for name in variants if name.startswith("syscalls")}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            result = fn()
            if name.startswith("startup"):
                samples[name] += [w["startup_s"] for w in result[1]["worker_startup"]]
            elif "reuse" in name:
                samples[name].append(result[0] / args.reuse_tasks)
                steady[name].append(steady_per_task(result[1]))
            elif name.startswith("syscalls"):
                for key, value in result.items():
                    if key.endswith("_ns"):
                        syscalls[name].setdefault(key, []).append(value)
                samples[name].append(result["getppid_ns"])
            else:
                samples[name].append(result)
    med = {name: statistics.median(values) for name, values in samples.items()}
    report = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
                    "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "loadavg_after": open("/proc/loadavg").read().split()[:3]},
        "command": " ".join([os.path.relpath(sys.executable), *sys.argv]),
        "rounds": args.rounds,
        "median_s": med,
        "samples": {name: len(values) for name, values in samples.items()},
    }
    if not args.per_task_only:
        report["sandbox_startup_added_ms"] = (med["startup_sandbox"] - med["startup_plain"]) * 1e3
        print(f"worker start-up (median of {report['samples']['startup_plain']}):  plain "
              f"{med['startup_plain'] * 1e3:.1f} ms   --sandbox {med['startup_sandbox'] * 1e3:.1f} ms   "
              f"added {report['sandbox_startup_added_ms']:+.1f} ms")
    for prefix in builds:
        plain, sandboxed = steady[prefix + "reuse_plain"], steady[prefix + "reuse_sandbox"]
        ratios = [b / a for a, b in zip(plain, sandboxed)]
        entry = {
            "wall_per_task_us": {"plain": med[prefix + "reuse_plain"] * 1e6,
                                 "sandbox": med[prefix + "reuse_sandbox"] * 1e6},
            "steady_per_task_us": {"plain": statistics.median(plain) * 1e6,
                                   "sandbox": statistics.median(sandboxed) * 1e6},
            "steady_ratio": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)},
        }
        report[prefix + "reuse"] = entry
        w, st, r = entry["wall_per_task_us"], entry["steady_per_task_us"], entry["steady_ratio"]
        print(f"{prefix or 'this build: '}per task, reused worker ({args.reuse_tasks} tasks): wall / K plain "
              f"{w['plain']:.0f} us, sandboxed {w['sandbox']:.0f} us;  steady plain {st['plain']:.1f} us, "
              f"sandboxed {st['sandbox']:.1f} us, ratio {r['median']:.3f} ({r['min']:.3f}-{r['max']:.3f})")
    if not args.per_task_only:
        print(f"python -c pass: {med['python_c_pass'] * 1e3:.1f} ms", end="")
        if bwrap:
            report["bwrap_added_ms"] = (med["bwrap_python_c_pass"] - med["python_c_pass"]) * 1e3
            print(f"   bwrap --unshare-all ... python -c pass: {med['bwrap_python_c_pass'] * 1e3:.1f} ms "
                  f"(added {report['bwrap_added_ms']:+.1f} ms)")
        else:
            print("   (no bwrap: apt-get install bubblewrap)")
    if syscalls:
        report["syscall_ns"] = {name: {key: statistics.median(values) for key, values in keys.items()}
                                for name, keys in syscalls.items()}
        print("ns a call (median of the rounds):      getppid    stat  open+close")
        for name, keys in report["syscall_ns"].items():
            print(f"  {name[len('syscalls_'):]:<28} {keys['getppid_ns']:8.0f} {keys['stat_ns']:7.0f} "
                  f"{keys['open_close_ns']:9.0f}")
    print("load average after:", " ".join(report["machine"]["loadavg_after"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
