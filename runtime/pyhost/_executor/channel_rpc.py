"""pyhost.Channel operations asked of another party: a process worker asks its executor (over
its rpc connection), a rank asks the channel's rank (ranks.py). This module holds what both
sides share: the operation and status codes, ChannelClosed, the worker's ProxyBackend, and
serve_one(), which does one asked-for operation on a channel of this process.

Imports nothing of pyhost: pyhost.channel, the executor's workers and the MPI letters all use it.
"""
import os
import pickle
import threading
import time

try:
    import _pyhost
except ImportError:  # plain python: channels are thread queues, nobody asks for operations
    _pyhost = None

# Item kinds, and the statuses of put/get (those of the host's byte channels).
RAW, PICKLED = 0, 1
OK, TIMEOUT, CLOSED = 0, 1, 2
# Operations a worker asks for on a channel it does not hold.
RPC_PUT, RPC_GET, RPC_CLOSE, RPC_STATE = 1, 2, 3, 4

# How long a served operation waits before checking that its worker is still there.
SERVE_SLICE = 0.25


class ChannelClosed(Exception):
    """put() on a closed channel, or get() on a closed channel with nothing left in it."""

    __module__ = "pyhost.channel"  # public there (and as pyhost.ChannelClosed)


def rank():
    return int(os.environ.get("PYHOST_RANK", "0"))


class ProxyBackend:
    """A parent's channel seen from a process worker: each operation is a request to the
    executor (one at a time per worker)."""

    def __init__(self, connection, channel_id, owner_pid, owner_rank=None):
        self._connection = connection
        self.id = channel_id
        self._owner = owner_pid
        self._rank = rank() if owner_rank is None else owner_rank
        self._lock = threading.Lock()

    def _call(self, op, tag=0, data=b"", timeout=None):
        request = encode_request(self.id, tag, data, timeout, self._rank)
        with self._lock:
            self._connection.send(op, request)
            reply = self._connection.receive()
        if reply is None:
            raise ChannelClosed("the pyhost.Executor that served this channel is gone")
        ok, value = pickle.loads(reply[1])
        if not ok:
            raise value
        return value

    def put(self, tag, data, timeout):
        return self._call(RPC_PUT, tag, data, timeout)

    def get(self, timeout):
        return self._call(RPC_GET, timeout=timeout)

    def close(self):
        self._call(RPC_CLOSE)

    def state(self):
        return self._call(RPC_STATE)

    def reference(self):
        return self.id, self._owner, self._rank


def encode_request(channel_id, tag, data, timeout, owner_rank):
    return pickle.dumps((channel_id, tag, bytes(data), timeout, owner_rank))


def decode_request(payload):
    """(channel_id, tag, data, timeout, owner_rank) of a request."""
    return pickle.loads(payload)


def error_reply(exc):
    """The (False, exception) reply for exc: itself when it crosses by pickle, else a RuntimeError
    that names it."""
    return False, exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}")


def _picklable(exc):
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:
        return False


def serve_one(op, channel_id, tag, data, timeout, worker_alive):
    """Does one operation on a channel of this process; a blocking one waits in slices, and gives
    up when worker_alive() says its requester is gone."""
    if op == RPC_CLOSE:
        return _pyhost.chan_close(channel_id)
    if op == RPC_STATE:
        return _pyhost.chan_state(channel_id)
    if op not in (RPC_PUT, RPC_GET):
        raise ValueError(f"unknown channel operation {op!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = SERVE_SLICE if deadline is None else min(SERVE_SLICE, max(0.0, deadline - time.monotonic()))
        if op == RPC_PUT:
            result = _pyhost.chan_put(channel_id, tag, data, remaining)
            status = result
        else:
            result = _pyhost.chan_get(channel_id, remaining)
            status = result[0]
        timed_out = status == TIMEOUT
        if not timed_out or (deadline is not None and time.monotonic() >= deadline) or not worker_alive():
            return result
