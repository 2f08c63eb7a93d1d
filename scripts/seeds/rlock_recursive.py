"""A thread re-acquires the same RLock in a recursive function.

Source: seed 004, AD4305 unit V, "b) RLock (Reentrant Lock)" (second, intact
version of the program; the first lost its indentation).
"""
import threading

rlock = threading.RLock()


def recursive_task(n):
    with rlock:
        print(f"Task {n} acquired the lock")
        if n > 0:
            recursive_task(n - 1)
        print(f"Task {n} released the lock")


# Start a thread
thread = threading.Thread(target=recursive_task, args=(3,))
thread.start()
thread.join()
