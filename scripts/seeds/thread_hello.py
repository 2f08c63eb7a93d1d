"""Thread "hello world": a second thread and the main thread say hello.

Source: seed 001, parallelism lecture slides ("Threads": thread_hello /
thread_say_hello).  The seed's output order is not synchronized; here the
other thread is joined before the main thread speaks, and it is named
"Thread-1" explicitly (Python >= 3.10 names it "Thread-1 (thread_say_hello)").
"""
from threading import Thread, current_thread


def thread_say_hello():
    print('hello from', current_thread().name)


def thread_hello():
    other = Thread(target=thread_say_hello, args=(), name='Thread-1')
    other.start()
    other.join()
    thread_say_hello()


if __name__ == '__main__':
    thread_hello()
