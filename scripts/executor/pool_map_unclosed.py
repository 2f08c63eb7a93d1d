"""pyhost.Executor(workers=4).map without shutting the executor down.

Rewrite of scripts/seeds/pool_map_unclosed.py (multiprocessing.Pool(processes=4)
left open).  Like the seed, the executor is neither shut down nor used as a
context manager: its exit hook must stop its workers when the script ends.
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


def worker(x):
    return x * x


if __name__ == '__main__':
    pool = pyhost.Executor(MODE, workers=4)
    result = list(pool.map(worker, [1, 2, 3, 4]))
    print(result)  # Output: [1, 4, 9, 16]
