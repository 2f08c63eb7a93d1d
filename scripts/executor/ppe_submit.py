"""pyhost.Executor.submit() futures, as_completed(), and map() over range(5).

Rewrite of scripts/seeds/ppe_submit.py (ProcessPoolExecutor(max_workers=2)).
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os
from concurrent.futures import as_completed

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


def add(a, b):
    return a + b


def cube(n):
    return n ** 3


if __name__ == "__main__":
    with pyhost.Executor(MODE, workers=2) as executor:
        future = executor.submit(add, 5, 10)
        print(future.result())  # Blocks until result is available

        futures = [executor.submit(add, i, i) for i in range(4)]
        print(sorted(f.result() for f in as_completed(futures)))

        results = executor.map(cube, range(5))
        print(list(results))
    print("futures done:", future.done() and all(f.done() for f in futures))
