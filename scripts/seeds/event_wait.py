"""A thread waits on an Event until the main thread sets it.

Source: seed 004, AD4305 unit V, "d) Event" (first version).  The main
thread's 2 s of simulated work is 0.1 s; both messages come from the waiting
thread, so their order is fixed.
"""
import threading
import time

event = threading.Event()


def wait_for_event():
    print("Thread waiting for event...")
    event.wait()  # Wait until event is set
    print("Event occurred!")


# Create a thread
thread = threading.Thread(target=wait_for_event)
thread.start()

# Simulate some work and then trigger the event
time.sleep(0.1)
event.set()  # Trigger the event

thread.join()
print("Event is set:", event.is_set())
