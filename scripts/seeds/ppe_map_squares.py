"""Data parallelism: ProcessPoolExecutor.map squares a list of numbers.

Source: seed 004, AD4305 unit V, "Data Parallelism Example" (seed 002 has the
same program with [1, 2, 3, 4]).  Fix: the pool is created under
`if __name__ == "__main__":` (required with the spawn start method);
max_workers=2 instead of one per CPU.
"""
from concurrent.futures import ProcessPoolExecutor


# Function to square a number
def square_number(number):
    return number * number


if __name__ == "__main__":
    # Data: List of numbers
    data = [1, 2, 3, 4, 5, 6, 7, 8, 9]

    # Using ProcessPoolExecutor for parallel processing
    with ProcessPoolExecutor(max_workers=2) as executor:
        # Distributing the square_number function across the data
        results = list(executor.map(square_number, data))

    print("Original Data:", data)
    print("Squared Data:", results)
