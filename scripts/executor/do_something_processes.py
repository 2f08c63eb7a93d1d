"""Executor driver for do_something (multiprocessing_test.py).

Rewrite of scripts/seeds/do_something_processes.py (4 multiprocessing.Process
running do_something(size, out_list)).  The 4 calls run on a pyhost.Executor in
the mode from PYHOST_EXECUTOR_MODE (default "subinterpreters"); do_something is
the seed's own module (scripts/seeds/do_something.py).  Arguments reach
sub-interpreter and process workers as copies, so there, as with the seed's
processes, each call fills its own copy of out_list and the parent's lists stay
empty; threads share the parent's memory and fill them in place.
"""
import os
import sys
import time

sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "seeds"))
from do_something import do_something  # noqa: E402

import pyhost  # noqa: E402

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


def filled_size(count):
    """do_something on a list of the worker's own, and how many items it got."""
    out_list = list()
    do_something(count, out_list)
    return len(out_list)


if __name__ == "__main__":
    start_time = time.time()
    size = 100000
    calls = 4
    lists = []
    with pyhost.Executor(MODE, workers=2) as executor:
        jobs = []
        for i in range(0, calls):
            out_list = list()
            lists.append(out_list)
            jobs.append(executor.submit(do_something, size, out_list))
        sizes = list(executor.map(filled_size, [size] * calls))

    print("List processing complete.")
    end_time = time.time()
    print("calls:", calls)
    print("results:", [j.result() for j in jobs])
    print("every worker's list has", size, "items:", sizes == [size] * calls)
    print("parent's lists filled in place (shared memory):",
          all(len(l) == size for l in lists))
    print("parent's lists still empty (no shared memory):",
          all(len(l) == 0 for l in lists))
    print("time measured:", end_time >= start_time)
