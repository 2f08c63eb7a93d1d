"""Peak RSS of `pyhost run --mode M -j2 --tasks K -c pass` by K: a run's memory must not grow with
its task count (issue 14). The figure is pyhost's own: the waited child's ru_maxrss, forked from
this small script (a child's ru_maxrss starts at its parent's RSS, so a large parent, such as
bench_tasks.py's, puts a floor under it). Options go before `-c`, extra ones after the Ks.
  python bench/peak_rss_by_k.py build/pyhost serial,threads,subinterpreters,processes 1000,10000,100000 [--json /tmp/r.json]
"""
import os
import sys
import time


def peak_rss(command):
    """(exit code, peak RSS in MB, wall seconds) of a command, its output discarded."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.execv(command[0], command)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.perf_counter() - start


def main():
    pyhost, modes, ks, extra = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), sys.argv[4:]
    for mode in modes:
        row = []
        for k in ks:
            code, mb, wall = peak_rss([pyhost, "run", "--mode", mode, "-j2", "--tasks", k, *extra,
                                       "-c", "pass"])
            row.append(f"K={k}: {mb:.1f} MB ({wall:.1f} s{'' if code == 0 else f', exit {code}'})")
        print(f"{mode:16}" + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
