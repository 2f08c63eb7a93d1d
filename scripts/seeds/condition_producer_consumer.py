"""Producer and consumer threads hand items over through a Condition.

Source: seed 004, AD4305 unit V, "e) Condition".  Both versions in the seed
can deadlock (each side may wait() for a notify() that was sent before it
started waiting) and the consumer's loop condition is wrong.  Here both sides
wait for a predicate with wait_for(), the producer waits until each item is
consumed before producing the next, and a `finished` flag ends the consumer,
so the output strictly alternates.
"""
import threading

condition = threading.Condition()
shared_data = []
finished = False


def producer():
    global finished
    with condition:
        for i in range(5):
            shared_data.append(i)
            print(f"Produced: {i}")
            condition.notify()  # Notify the consumer
            condition.wait_for(lambda: not shared_data)  # Wait until consumed
        finished = True
        condition.notify_all()  # Notify when done


def consumer():
    with condition:
        while True:
            condition.wait_for(lambda: shared_data or finished)  # Wait for producer
            if not shared_data:
                break
            item = shared_data.pop(0)
            print(f"Consumed: {item}")
            condition.notify()  # Notify producer


# Create threads
producer_thread = threading.Thread(target=producer)
consumer_thread = threading.Thread(target=consumer)

# Start threads
producer_thread.start()
consumer_thread.start()

# Wait for threads to finish
producer_thread.join()
consumer_thread.join()
print("Producer and consumer finished")
