"""I/O-bound: each task waits (time.sleep stands in for a network or disk round trip) with a
little Python work between waits. While a thread sleeps it holds no GIL, so threads overlap the
waiting: this is where threads win.

Usage: pyhost compare scripts/io_sleep.py [ROUNDS] [SECONDS]   (default 5 rounds of 0.05 s).
"""
import sys
import time

import pyhost


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    replies = []
    for i in range(rounds):
        time.sleep(seconds)  # the "request": no CPU, no GIL
        replies.append(sum(range(1000)) + i)  # a little handling of the "reply"
    print(f"task {pyhost.task_id}: {len(replies)} replies in {rounds * seconds:.2f} s of waiting")


if __name__ == "__main__":
    main()
