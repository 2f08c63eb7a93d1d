"""Two threads take turns printing 1 and 2 under a shared Semaphore.

Source: seed 000, "Parallel processing in Python" (D. Arroyo Menendez, 2019),
slide "A semaphore with threads".  The seed's loops are `while True` (stopped
with Ctrl-C) and fun2 is cut off (it prints 2).  Here each loop runs a fixed
number of rounds, the sleep is 0.01 s instead of 0.25 s, and since the
interleaving of 1s and 2s depends on timing, the threads record what they
printed and the main thread prints the totals.
"""
import threading
import time

ROUNDS = 5
sem = threading.Semaphore()
printed = []


def fun1():
    for _ in range(ROUNDS):
        try:
            sem.acquire()
            printed.append(1)
            sem.release()
            time.sleep(0.01)
        except (KeyboardInterrupt, SystemExit):
            raise


def fun2():
    for _ in range(ROUNDS):
        try:
            sem.acquire()
            printed.append(2)
            sem.release()
            time.sleep(0.01)
        except (KeyboardInterrupt, SystemExit):
            raise


t = threading.Thread(target=fun1)
t.start()
t2 = threading.Thread(target=fun2)
t2.start()
t.join()
t2.join()

print("1 printed", printed.count(1), "times")
print("2 printed", printed.count(2), "times")
print("total", len(printed))
