"""Serial driver for do_something (serial_test.py).

Source: seed 003, "Python Parallel Programming Cookbook, 2nd ed.", chapter 1.
Fixes: `range(0, exec)` -> `range(0, n_exec)`; size 10000000 x 10 shrunk to
100000 x 4; the elapsed time is not printed (it varies), only invariant facts.
"""
from do_something import *
import time

if __name__ == "__main__":
    start_time = time.time()
    size = 100000
    n_exec = 4
    lengths = []
    for i in range(0, n_exec):
        out_list = list()
        do_something(size, out_list)
        lengths.append(len(out_list))

    print("List processing complete.")
    end_time = time.time()
    print("serial runs:", n_exec)
    print("every list has", size, "items:", lengths == [size] * n_exec)
    print("time measured:", end_time >= start_time)
