"""Four threads each print "Thread started" and "Thread 0".."Thread 4".

Source: seed 002, "Does Python support parallel programming?" (multi-threading
example).  A print lock keeps each thread's block of lines together; since the
blocks are identical, the output is the same in every run.
"""
import threading

print_lock = threading.Lock()


def worker():
    with print_lock:
        print("Thread started")
        for i in range(5):
            print(f"Thread {i}")


threads = []
for i in range(4):
    t = threading.Thread(target=worker)
    threads.append(t)
    t.start()

for t in threads:
    t.join()

print("All 4 threads finished")
