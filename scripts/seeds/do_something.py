"""do_something: the workload module of the serial / threads / processes comparison.

Source: seed 003, "Python Parallel Programming Cookbook, 2nd ed." (G. Zaccone),
chapter 1, "Introducing processes and threads" (do_something.py).
The seed lost the loop body; the book appends random numbers to out_list.
Imported by do_something_serial.py, do_something_threads.py and
do_something_processes.py (found through sys.path[0], the script's directory).
"""
import random


def do_something(count, out_list):
    for i in range(count):
        out_list.append(random.random())
