"""pyhost.Executor(workers=3).map squares a list of numbers.

Rewrite of scripts/seeds/pool_map.py (multiprocessing.Pool(processes=3).map).
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


# Function to square a number
def square(num):
    return num * num


if __name__ == "__main__":
    # List of numbers
    data = [1, 2, 3, 4, 5]

    # Create a pool of workers and map the task
    with pyhost.Executor(MODE, workers=3) as pool:
        results = list(pool.map(square, data))

    print("Squared results:", results)
