"""Mixed: each task alternates pure-Python computation with waiting (sleep standing in for I/O).
Threads overlap one task's waiting with another's computing, so they help, but only about as much
as the waiting allows; sub-interpreters and processes also run the computing side by side.

Usage: pyhost compare scripts/mixed.py [ROUNDS] [LOOP] [SECONDS]
(default 4 rounds of a 150_000-iteration loop and a 0.04 s wait).
"""
import sys
import time

import pyhost


def compute(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    loop = int(sys.argv[2]) if len(sys.argv) > 2 else 150_000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 0.04
    total = 0
    for _ in range(rounds):
        total += compute(loop)
        time.sleep(seconds)
    print(f"task {pyhost.task_id}: {rounds} rounds, checksum {total}")


if __name__ == "__main__":
    main()
