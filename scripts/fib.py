"""CPU-bound: naive recursive Fibonacci, nothing but Python function calls and additions.

Usage: pyhost compare scripts/fib.py [N]   (default N = 32, about 0.2 s a task here; every task
computes the same fib(N), so the workers have equal shares).
"""
import sys

import pyhost


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    print(f"task {pyhost.task_id}: fib({n}) = {fib(n)}")


if __name__ == "__main__":
    main()
