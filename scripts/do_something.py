"""The Cookbook's serial / threads / processes comparison, corrected, as pyhost tasks.

Source: seed 003, "Python Parallel Programming Cookbook, 2nd ed." (G. Zaccone), chapter 1:
`do_something(count, out_list)` appends `count` random numbers to a list, and the book runs it 10
times serially, in 10 threads and in 10 processes, timing each. Its threads version passes
`threading.Thread(target=do_something(size, out_list))`: that *calls* do_something in the main
thread and hands its result (None) to the thread, so the "threads" ran one after another and the
timing measured the serial program (scripts/seeds/do_something_threads.py is the corrected
program).

Here each pyhost task is one call of do_something, and pyhost does the rest:

    pyhost compare scripts/do_something.py --tasks 10

runs the same 10 calls one after another (serial), in threads and in sub-interpreters (and
processes), with a correct timeline of who ran what when: threads take turns on the GIL (no
speedup for this pure-Python loop), sub-interpreters and processes run side by side. The book's
10_000_000 numbers per call are shrunk to 1_000_000 (about 0.2 s a task here); give another size
as the first argument.
"""
import random
import sys

import pyhost


def do_something(count, out_list):
    for i in range(count):
        out_list.append(random.random())


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    random.seed(pyhost.task_id)
    out_list = list()
    do_something(size, out_list)
    assert len(out_list) == size
    print(f"task {pyhost.task_id}: {len(out_list)} random numbers ({pyhost.mode}, worker {pyhost.worker_id})")


if __name__ == "__main__":
    main()
