"""Process "hello world": the main process and a child process say hello.

Source: seed 001, parallelism lecture slides ("Processes": process_hello /
process_say_hello).  The seed's output order is not synchronized; here the
main process speaks (and flushes) first, then the child runs and is joined,
matching the order shown in the slides.
"""
from multiprocessing import Process, current_process


def process_say_hello():
    print('hello from', current_process().name, flush=True)


def process_hello():
    # Function that the new process should run
    other = Process(target=process_say_hello, args=())
    process_say_hello()
    other.start()
    other.join()
    print('child exit code:', other.exitcode)


if __name__ == '__main__':
    process_hello()
