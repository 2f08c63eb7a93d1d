"""Run print_numbers() in one thread, then report completion.

Source: seed 004, AD4305 unit V, "Python's threading Module" / "Using Thread".
"""
import threading


# Function to be run in a thread
def print_numbers():
    for i in range(5):
        print(f"Number: {i}")


# Create a thread
thread = threading.Thread(target=print_numbers)

# Start the thread
thread.start()

# Wait for the thread to complete
thread.join()

print("Thread execution finished!")
