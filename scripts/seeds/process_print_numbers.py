"""Run print_numbers() in a child process, then report completion.

Source: seed 004, AD4305 unit V, "Creating and Managing Processes: Using
Process".  Fix: `if __name__ == "__main__":` guard (needed with spawn).
"""
from multiprocessing import Process


# Function to be executed in a new process
def print_numbers():
    for i in range(5):
        print(f"Number: {i}")


if __name__ == "__main__":
    # Create and start a new process
    process = Process(target=print_numbers)
    process.start()

    # Wait for the process to complete
    process.join()

    print("Process finished!")
