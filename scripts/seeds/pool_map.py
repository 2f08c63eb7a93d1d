"""multiprocessing.Pool(processes=3).map squares a list of numbers.

Source: seed 004, AD4305 unit V, "Using Pool".  Fix: `if __name__ ==
"__main__":` guard (needed with spawn).
"""
from multiprocessing import Pool


# Function to square a number
def square(num):
    return num * num


if __name__ == "__main__":
    # List of numbers
    data = [1, 2, 3, 4, 5]

    # Create a pool of workers and map the task
    with Pool(processes=3) as pool:
        results = pool.map(square, data)

    print("Squared results:", results)
