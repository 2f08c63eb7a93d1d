"""A sender call and a receiver call connected by a two-way pipe of Channels.

Rewrite of scripts/seeds/mp_pipe.py (two multiprocessing.Process over a
multiprocessing.Pipe).  A duplex pipe is two pyhost.Channels, one per
direction; Pipe() below returns its two ends, with send/recv/close as
multiprocessing.Connection has them (recv raises EOFError once the other end is
closed and nothing is left).  The receiver answers with bytes, which cross the
channel raw and arrive as bytes.  The main script prints what the calls return.
The executor mode comes from PYHOST_EXECUTOR_MODE (default "subinterpreters").
"""
import os

import pyhost

MODE = os.environ.get("PYHOST_EXECUTOR_MODE", "subinterpreters")


class Connection:
    """One end of a duplex pipe: reads one Channel, writes the other."""

    def __init__(self, incoming, outgoing):
        self.incoming = incoming
        self.outgoing = outgoing

    def send(self, obj):
        self.outgoing.put(obj)

    def recv(self):
        try:
            return self.incoming.get()
        except pyhost.ChannelClosed:
            raise EOFError("the other end of the pipe is closed") from None

    def close(self):
        self.outgoing.close()


def Pipe():
    """Two connected ends, like multiprocessing.Pipe(duplex=True)."""
    a_to_b = pyhost.Channel()
    b_to_a = pyhost.Channel()
    return Connection(b_to_a, a_to_b), Connection(a_to_b, b_to_a)


# Function to send data through the pipe (and wait for the receiver's answer)
def sender(conn):
    conn.send("Hello from sender!")
    reply = conn.recv()
    conn.close()
    return reply


# Function to receive data through the pipe
def receiver(conn):
    message = conn.recv()
    conn.send(f"got {len(message)} characters".encode())  # bytes cross raw
    try:
        conn.recv()
        saw_close = False
    except EOFError:
        saw_close = True
    return message, saw_close


if __name__ == "__main__":
    # Create a pipe
    parent_conn, child_conn = Pipe()

    # Run the sender and the receiver on two workers at once
    with pyhost.Executor(MODE, workers=2) as executor:
        receiver_future = executor.submit(receiver, child_conn)
        sender_future = executor.submit(sender, parent_conn)

        # Wait for both calls to complete
        message, saw_close = receiver_future.result()
        reply = sender_future.result()

    print(f"Received: {message}")
    print("Sender got the reply:", reply)
    print("Receiver saw the sender close its end:", saw_close)
