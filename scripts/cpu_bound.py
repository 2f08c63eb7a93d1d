"""CPU-bound pure-Python work: the case where the GIL decides everything.

Each task sums squares in an interpreted loop (no I/O, no C extension doing the work), so
threads sharing one interpreter take turns on the GIL, while sub-interpreters (own GIL) and
processes run side by side. Usage: pyhost run --mode MODE -j N --tasks K scripts/cpu_bound.py [N]
"""
import sys
import time

import pyhost


def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    start = time.perf_counter()
    result = work(n)
    took = time.perf_counter() - start
    print(f"task {pyhost.task_id}: work({n}) = {result} in {took:.3f} s ({pyhost.mode})")


if __name__ == "__main__":
    main()
