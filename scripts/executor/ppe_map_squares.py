"""Data parallelism: pyhost.Executor.map squares a list of numbers.

Rewrite of scripts/seeds/ppe_map_squares.py (ProcessPoolExecutor(max_workers=2).map).
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


# Function to square a number
def square_number(number):
    return number * number


if __name__ == "__main__":
    # Data: List of numbers
    data = [1, 2, 3, 4, 5, 6, 7, 8, 9]

    # Using pyhost.Executor for parallel processing
    with pyhost.Executor(MODE, workers=2) as executor:
        # Distributing the square_number function across the data
        results = list(executor.map(square_number, data))

    print("Original Data:", data)
    print("Squared Data:", results)
