"""Producer and consumer calls hand items over one at a time through Channels.

Rewrite of scripts/seeds/condition_producer_consumer.py (two threads and a
threading.Condition, the producer waiting until each item is consumed).  Here
the producer and the consumer run on two pyhost.Executor workers: items go
through a Channel(maxsize=1), and the producer waits for the consumer's
acknowledgement on a second Channel before producing the next item, so the log
strictly alternates.  Both log to a third Channel, which the main script prints.
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


def producer(items, acks, log):
    try:
        for i in range(5):
            log.put(f"Produced: {i}")
            items.put(i)  # Hand the item to the consumer
            acks.get()  # Wait until consumed
    finally:
        items.close()  # Tell the consumer we are done


def consumer(items, acks, log):
    try:
        for item in items:  # Wait for the producer; ends when it is done
            log.put(f"Consumed: {item}")
            acks.put(item)  # Notify the producer
    finally:
        log.close()


if __name__ == "__main__":
    items = pyhost.Channel(maxsize=1)
    acks = pyhost.Channel(maxsize=1)
    log = pyhost.Channel()

    with pyhost.Executor(MODE, workers=2) as executor:
        consumer_future = executor.submit(consumer, items, acks, log)
        producer_future = executor.submit(producer, items, acks, log)
        for line in log:
            print(line)
        # Wait for both to finish
        producer_future.result()
        consumer_future.result()
    print("Producer and consumer finished")
