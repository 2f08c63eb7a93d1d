"""Producer/consumer over a pyhost.Channel: the consumer runs on an executor worker.

Rewrite of scripts/seeds/queue_producer_consumer.py (a consumer thread over a
queue.Queue ending at a None sentinel).  Here the main script produces into a
Channel and closes it when done; the consumer, a call on a pyhost.Executor
worker, iterates the channel until it is closed and drained.  The consumer
reports each item on a second Channel, which the main script prints in order.
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


def synchronized_consume(queue, out):
    count = 0
    try:
        for item in queue:  # ends when the queue is closed and empty
            out.put(f'got an item: {item}')
            count += 1
    finally:
        out.close()
    return count


def synchronized_produce():
    queue = pyhost.Channel()
    out = pyhost.Channel()
    with pyhost.Executor(MODE, workers=1) as executor:
        consumer = executor.submit(synchronized_consume, queue, out)
        for i in range(10):
            queue.put(i)
        queue.close()  # instead of a sentinel: the consumer's loop ends
        for line in out:
            print(line)
        consumed = consumer.result()
    print('consumer finished, queue empty:', queue.empty())
    print('items consumed:', consumed)


if __name__ == '__main__':
    synchronized_produce()
