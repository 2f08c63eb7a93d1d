"""Producer and consumer processes talk through a multiprocessing.Queue.

Source: seed 004, AD4305 unit V, "Inter-Process Communication: Using Queue".
The producer ends the stream with a None sentinel.  Fix: `if __name__ ==
"__main__":` guard (needed with spawn).
"""
from multiprocessing import Process, Queue


# Function to put data into the queue
def producer(q):
    for i in range(5):
        q.put(i)
    q.put(None)  # Signal the consumer to stop


# Function to get data from the queue
def consumer(q):
    while True:
        item = q.get()
        if item is None:  # Stop when producer signals
            break
        print(f"Consumed: {item}")


if __name__ == "__main__":
    # Create a shared queue
    q = Queue()

    # Create and start producer and consumer processes
    producer_process = Process(target=producer, args=(q,))
    consumer_process = Process(target=consumer, args=(q,))

    producer_process.start()
    consumer_process.start()

    # Wait for both processes to finish
    producer_process.join()
    consumer_process.join()
    print("exit codes:", producer_process.exitcode, consumer_process.exitcode)
