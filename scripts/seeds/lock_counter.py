"""Two threads increment a shared counter 100000 times each under a Lock.

Source: seed 004, AD4305 unit V, "Synchronization Mechanisms: a) Lock"
(the same program appears with 5 threads in "Thread Safety and Debugging").
"""
import threading

# Shared resource
counter = 0
lock = threading.Lock()


# Function to increment the counter
def increment():
    global counter
    for _ in range(100000):
        with lock:  # Acquire and release the lock
            counter += 1


# Create threads
thread1 = threading.Thread(target=increment)
thread2 = threading.Thread(target=increment)

# Start threads
thread1.start()
thread2.start()

# Wait for threads to complete
thread1.join()
thread2.join()

print("Final Counter:", counter)
