"""Multithreaded driver for do_something (multithreading_test.py).

Source: seed 003, "Python Parallel Programming Cookbook, 2nd ed.", chapter 1.
Fixes: the book writes `threading.Thread(target=list_append(size, out_list))`,
which calls the function serially in the main thread and passes its result
(None) as the target; here the thread gets `target=do_something,
args=(size, out_list)`.  10 threads x 10000000 items shrunk to 4 x 100000.
Threads share memory, so the main thread sees the filled lists.
"""
from do_something import *
import time
import threading

if __name__ == "__main__":
    start_time = time.time()
    size = 100000
    threads = 4
    jobs = []
    lists = []
    for i in range(0, threads):
        out_list = list()
        lists.append(out_list)
        thread = threading.Thread(target=do_something, args=(size, out_list))
        jobs.append(thread)

    for j in jobs:
        j.start()

    for j in jobs:
        j.join()

    print("List processing complete.")
    end_time = time.time()
    print("threads:", threads)
    print("all threads finished:", not any(j.is_alive() for j in jobs))
    print("lists filled in place (shared memory):",
          [len(l) for l in lists] == [size] * threads)
    print("worker threads ran off the main thread:",
          all(j.ident != threading.main_thread().ident for j in jobs))
    print("time measured:", end_time >= start_time)
