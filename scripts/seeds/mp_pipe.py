"""A sender process and a receiver process connected by a multiprocessing.Pipe.

Source: seed 004, AD4305 unit V, "Synchronization and Shared State: Using
Pipe".  Fix: `if __name__ == "__main__":` guard (needed with spawn).
"""
from multiprocessing import Process, Pipe


# Function to send data through the pipe
def sender(conn):
    conn.send("Hello from sender!")
    conn.close()


# Function to receive data through the pipe
def receiver(conn):
    message = conn.recv()
    print(f"Received: {message}")


if __name__ == "__main__":
    # Create a pipe
    parent_conn, child_conn = Pipe()

    # Create and start sender and receiver processes
    sender_process = Process(target=sender, args=(parent_conn,))
    receiver_process = Process(target=receiver, args=(child_conn,))

    sender_process.start()
    receiver_process.start()

    # Wait for both processes to complete
    sender_process.join()
    receiver_process.join()
    print("exit codes:", sender_process.exitcode, receiver_process.exitcode)
