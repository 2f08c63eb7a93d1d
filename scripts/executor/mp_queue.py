"""Producer and consumer calls talk through a bounded pyhost.Channel.

Rewrite of scripts/seeds/mp_queue.py (two multiprocessing.Process over a
multiprocessing.Queue).  The producer and the consumer run at the same time on
two workers of a pyhost.Executor; the queue is a Channel(maxsize=2), so the
producer waits whenever the consumer falls behind.  The producer ends the stream
with a None sentinel, as in the seed.  The consumer reports each item on a
second Channel and the main script prints those lines in order (a worker's own
prints would race the main script's output).
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


# Function to put data into the queue
def producer(q):
    for i in range(5):
        q.put(i)
    q.put(None)  # Signal the consumer to stop
    return "producer done"


# Function to get data from the queue
def consumer(q, out):
    count = 0
    try:
        while True:
            item = q.get()
            if item is None:  # Stop when producer signals
                break
            out.put(f"Consumed: {item}")
            count += 1
    finally:
        out.close()  # the main script's loop over `out` ends here
    return count


if __name__ == "__main__":
    # Create a shared, bounded queue, and a channel for the consumer's report
    q = pyhost.Channel(maxsize=2)
    out = pyhost.Channel()

    # Run the producer and the consumer on two workers at once
    with pyhost.Executor(MODE, workers=2) as executor:
        consumer_future = executor.submit(consumer, q, out)
        producer_future = executor.submit(producer, q)

        for line in out:
            print(line)

        # Wait for both calls to finish
        print("results:", producer_future.result(), consumer_future.result())
    print("queue empty:", q.empty())
