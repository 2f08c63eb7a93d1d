"""Multiprocess driver for do_something (multiprocessing_test.py).

Source: seed 003, "Python Parallel Programming Cookbook, 2nd ed.", chapter 1.
Fixes: the truncated `process = multiprocessing.Process` line is completed as
`multiprocessing.Process(target=do_something, args=(size, out_list))`;
10 processes x 10000000 items shrunk to 4 x 100000.
Each child fills its own copy of out_list, so the parent's lists stay empty.
"""
from do_something import *
import time
import multiprocessing

if __name__ == "__main__":
    start_time = time.time()
    size = 100000
    procs = 4
    jobs = []
    lists = []
    for i in range(0, procs):
        out_list = list()
        lists.append(out_list)
        process = multiprocessing.Process(target=do_something,
                                          args=(size, out_list))
        jobs.append(process)

    for j in jobs:
        j.start()

    for j in jobs:
        j.join()

    print("List processing complete.")
    end_time = time.time()
    print("processes:", procs)
    print("exit codes:", [j.exitcode for j in jobs])
    print("parent's lists still empty (no shared memory):",
          all(len(l) == 0 for l in lists))
    print("time measured:", end_time >= start_time)
