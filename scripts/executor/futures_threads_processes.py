"""The same task run with Executor.submit on threads and Executor.map in the chosen mode.

Rewrite of scripts/seeds/futures_threads_processes.py (ThreadPoolExecutor.submit,
then ProcessPoolExecutor.map).  The first half uses pyhost.Executor("threads"),
the second pyhost.Executor in the mode from PYHOST_EXECUTOR_MODE (default
"subinterpreters").  Results are printed in submission / map order (both
deterministic); the total time goes to stderr only with PYHOST_SHOW_TIME=1.
"""
import os
import sys
import time

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


# Example function to simulate a task
def task(n):
    time.sleep(0.05)  # Simulate a time-consuming task
    return f"Task {n} completed"


# Using threads
def run_with_threads():
    print("Running with pyhost.Executor('threads')...")
    with pyhost.Executor("threads", workers=3) as executor:
        futures = [executor.submit(task, i) for i in range(5)]
        for future in futures:
            print(future.result())


# Using the chosen mode
def run_with_mode():
    print(f"\nRunning with pyhost.Executor({MODE!r})...")
    with pyhost.Executor(MODE, workers=3) as executor:
        results = executor.map(task, range(5))
        for result in results:
            print(result)


# Run the program
if __name__ == "__main__":
    start_time = time.perf_counter()
    run_with_threads()
    run_with_mode()
    elapsed = time.perf_counter() - start_time
    print(f"\nTotal execution time measured: {elapsed >= 0}")
    if os.environ.get("PYHOST_SHOW_TIME") == "1":
        print(f"total execution time: {elapsed:.3f} s", file=sys.stderr)
