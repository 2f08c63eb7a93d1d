"""Before/after of a change to pyhost itself: two pyhost builds timed in the same rounds.

For each build: start-up (`pyhost run -c pass`, wall of the whole command) and the per-task
dispatch cost (`pyhost run --mode M -j2 --tasks K -c 'x=1'`, wall / K) in every mode. The builds
alternate within each round, so on a VM whose speed drifts both see the same load; the paired
ratio (A's time / B's, median and quartiles over the rounds; > 1: B is faster) is the figure to
trust, the medians are there to read alongside.

  python bench/ab_builds.py --a OLD/build/pyhost --b NEW/build/pyhost [--rounds 11] [--tasks 10000]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from machine import cpu_model

sys.path.insert(0, os.path.dirname(__file__))
from timing import paired_ratio  # noqa: E402

MODES = ["serial", "threads", "subinterpreters", "processes"]


def wall(command):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the pyhost before (e.g. main's build)")
    parser.add_argument("--b", required=True, help="the pyhost after")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--tasks", type=int, default=10000)
    args = parser.parse_args()

    cases = {"start-up (run -c pass)": (["run", "-c", "pass"], 1)}
    for mode in MODES:
        cases[f"per task, {mode} -j2"] = (
            ["run", "--mode", mode, "-j2", "--tasks", str(args.tasks), "-c", "x=1"], args.tasks)
    times = {(case, build): [] for case in cases for build in ("a", "b")}
    for case, (words, _) in cases.items():  # warm: page cache, bytecode
        for build in ("a", "b"):
            wall([getattr(args, build), *words])
    for round_ in range(args.rounds):
        for case, (words, per) in cases.items():
            order = ("a", "b") if round_ % 2 == 0 else ("b", "a")
            for build in order:
                times[(case, build)].append(wall([getattr(args, build), *words]) / per)

    print(f"# {cpu_model()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
          f"{args.rounds} rounds, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# A = {args.a}\n# B = {args.b}")
    print(f"{'case':<28} {'A median':>12} {'B median':>12} {'A/B paired (p25-p75)':>24}")
    for case, (_, per) in cases.items():
        a, b = times[(case, "a")], times[(case, "b")]
        unit, scale = ("ms", 1e3) if per == 1 else ("us", 1e6)
        median, p25, p75 = paired_ratio(a, b)
        print(f"{case:<28} {statistics.median(a) * scale:>9.2f} {unit} "
              f"{statistics.median(b) * scale:>9.2f} {unit} "
              f"{median:>11.3f}x ({p25:.3f}-{p75:.3f})")


if __name__ == "__main__":
    main()
