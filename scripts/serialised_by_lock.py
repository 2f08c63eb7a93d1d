"""Workers that take turns: every task holds one exclusive file lock for its whole run.

Whatever the mode, only one task computes at a time while the others wait for the lock, so no
work is done in parallel: the same symptom as the Cookbook's
`threading.Thread(target=do_something(size, out_list))`, which calls do_something in the main
thread, one call after another, while the "threads" do nothing. `pyhost compare` sees the tasks
in flight together but never running together, and warns that the mode "did no parallel work".
An flock() lock works across threads, sub-interpreters and processes alike.

Usage: pyhost compare scripts/serialised_by_lock.py [N]   (default N = 1_500_000 loop iterations)
"""
import fcntl
import os
import sys
import tempfile

import pyhost


def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_500_000
    lock_path = os.path.join(tempfile.gettempdir(), f"pyhost-serialised-{os.getuid()}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks (GIL released) until the previous task is done
        try:
            result = work(n)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    print(f"task {pyhost.task_id}: work({n}) = {result} ({pyhost.mode})")


if __name__ == "__main__":
    main()
