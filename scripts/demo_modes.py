"""Runs a script as N tasks in each in-process execution mode and prints the wall times side by side.

Usage: pyhost run scripts/demo_modes.py [--pyhost PATH] [--workers N] [SCRIPT [ARGS...]]
(default: the CPU-bound example, 2 workers). `pyhost compare` does this with statistics.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhost", default=os.path.join(HERE, "..", "build", "pyhost"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("script", nargs="?", default=os.path.join(HERE, "cpu_bound.py"))
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args()

    print(f"{opts.workers} tasks of {os.path.basename(opts.script)} on {opts.workers} workers")
    print(f"{'mode':<16}{'wall (s)':>9}{'vs serial':>11}")
    serial = None
    for mode in ("serial", "threads", "subinterpreters"):
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "run.json")
            cmd = [opts.pyhost, "run", "--mode", mode, "-j", str(opts.workers),
                   "--tasks", str(opts.workers), "--json", report, opts.script, *opts.args]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{mode}: pyhost exited {done.returncode}\n{done.stderr}")
            with open(report) as f:
                wall = json.load(f)["wall_s"]
        serial = serial or wall
        print(f"{mode:<16}{wall:>9.3f}{serial / wall:>10.2f}x")


if __name__ == "__main__":
    main()
