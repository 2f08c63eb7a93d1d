"""Producer/consumer threads over a synchronized queue.Queue with a sentinel.

Source: seed 001, parallelism lecture slides, "Synchronized Data Structures"
(the seed stops at the heading; this is the slides' well-known example:
a consumer thread prints 'got an item:' for each of 10 items).  The original
consumer is a daemon thread looping `while True`; here the producer ends the
stream with a None sentinel so the consumer exits and is joined.
"""
from queue import Queue
from threading import Thread

queue = Queue()
SENTINEL = None


def synchronized_consume():
    while True:
        item = queue.get()
        if item is SENTINEL:
            queue.task_done()
            break
        print('got an item:', item)
        queue.task_done()


def synchronized_produce():
    consumer = Thread(target=synchronized_consume, args=())
    consumer.start()
    for i in range(10):
        queue.put(i)
    queue.put(SENTINEL)
    queue.join()
    consumer.join()
    print('consumer finished, queue empty:', queue.empty())


if __name__ == '__main__':
    synchronized_produce()
