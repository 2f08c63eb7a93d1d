"""The same task run with ThreadPoolExecutor.submit and ProcessPoolExecutor.map.

Source: seed 004, AD4305 unit V, "Sample Program: Using ThreadPoolExecutor and
ProcessPoolExecutor".  The 1 s task sleep is 0.05 s; results are printed in
submission / map order (both deterministic); the total time is not printed,
only that it was measured.
"""
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor
import time


# Example function to simulate a task
def task(n):
    time.sleep(0.05)  # Simulate a time-consuming task
    return f"Task {n} completed"


# Using ThreadPoolExecutor
def run_with_threads():
    print("Running with ThreadPoolExecutor...")
    with ThreadPoolExecutor(max_workers=3) as executor:
        futures = [executor.submit(task, i) for i in range(5)]
        for future in futures:
            print(future.result())


# Using ProcessPoolExecutor
def run_with_processes():
    print("\nRunning with ProcessPoolExecutor...")
    with ProcessPoolExecutor(max_workers=3) as executor:
        results = executor.map(task, range(5))
        for result in results:
            print(result)


# Run the program
if __name__ == "__main__":
    start_time = time.time()
    run_with_threads()
    run_with_processes()
    print(f"\nTotal execution time measured: {time.time() - start_time >= 0}")
