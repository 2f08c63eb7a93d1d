"""CPU-bound loop split over workers: the sum of squares of range(N).

Rewrite of scripts/seeds/sum_of_squares.py (one pure-Python loop).  range(N)
is cut into 8 slices whose partial sums pyhost.Executor(workers=2).map computes
in parallel (in the subinterpreters and processes modes); their total is the
seed's result.  The executor mode comes from PYHOST_EXECUTOR_MODE (default
"subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")
SLICES = 8


def sum_of_squares(start, stop):
    total = 0
    for i in range(start, stop):
        total += i * i
    return total


if __name__ == "__main__":
    N = 10**6
    bounds = [N * k // SLICES for k in range(SLICES + 1)]
    with pyhost.Executor(MODE, workers=2) as executor:
        total = sum(executor.map(sum_of_squares, bounds[:-1], bounds[1:]))
    print(total)
    print("matches closed form:", total == (N - 1) * N * (2 * N - 1) // 6)
