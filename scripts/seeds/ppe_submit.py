"""ProcessPoolExecutor.submit() futures, and map() over range(5).

Source: seed 004, AD4305 unit V, "Futures and Result Collection" (add(5, 10))
and "Example: map()" (cube of range(5)).  Fix: `if __name__ == "__main__":`
guard; max_workers=2.
"""
from concurrent.futures import ProcessPoolExecutor, as_completed


def add(a, b):
    return a + b


def cube(n):
    return n ** 3


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as executor:
        future = executor.submit(add, 5, 10)
        print(future.result())  # Blocks until result is available

        futures = [executor.submit(add, i, i) for i in range(4)]
        print(sorted(f.result() for f in as_completed(futures)))

        results = executor.map(cube, range(5))
        print(list(results))
    print("futures done:", future.done() and all(f.done() for f in futures))
