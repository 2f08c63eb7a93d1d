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


def _native_module():
    """The module of byte channels and sub-interpreter threads (chan_*, interp_start/join), and
    why there is none: the pyhost program's built-in `_pyhost`; in plain python the extension
    `_pyhost_subinterpreters` (the same C++ functions, built beside the program: build/python, or
    a wheel's site-packages); or None (channels are then thread queues, ThreadChannels below)."""
    try:
        import _pyhost
        return _pyhost, None
    except ImportError:
        pass
    try:
        import _pyhost_subinterpreters
        return _pyhost_subinterpreters, None
    except ImportError as missing:  # not built (an older build, a free-threaded python)
        return None, f"no extension _pyhost_subinterpreters for this python ({missing})"


# `native.__name__` is what a sub-interpreter worker imports to reach the same channels.
native, native_missing = _native_module()

# Item kinds, and the statuses of put/get (those of the host's byte channels).
RAW, PICKLED = 0, 1
OK, TIMEOUT, CLOSED = 0, 1, 2
# Operations a worker asks for on a channel it does not hold.
RPC_PUT, RPC_GET, RPC_CLOSE, RPC_STATE = 1, 2, 3, 4

# How long a served operation waits before checking that its worker is still there.
SERVE_SLICE = 0.25


class ThreadChannels:
    """Plain python's stand-in for the host's byte channels (`_pyhost.chan_*`, same calls), where
    no `_pyhost_subinterpreters` extension gives it those (`native` is None): the
    thread-queue backend of each pyhost.Channel that was pickled for a process worker, by id,
    so that the executor can do the worker's operations on it (serve_one). Entries are weak
    until the executor retains one for a worker that uses it."""

    def __init__(self):
        import weakref

        self._lock = threading.Lock()
        self._by_id = weakref.WeakValueDictionary()
        self._held = {}  # id -> [backend, count] while retained
        self._next = 1

    def register(self, backend):
        with self._lock:
            channel_id = self._next
            self._next += 1
            self._by_id[channel_id] = backend
            return channel_id

    def backend(self, channel_id):
        found = self._by_id.get(channel_id)
        if found is None:
            raise ChannelClosed(f"pyhost.Channel {channel_id} of this process is gone")
        return found

    def chan_retain(self, channel_id):
        with self._lock:
            held = self._held.get(channel_id)
            if held is None:
                self._held[channel_id] = [self.backend(channel_id), 1]
            else:
                held[1] += 1

    def chan_release(self, channel_id):
        with self._lock:
            held = self._held.get(channel_id)
            if held is not None:
                held[1] -= 1
                if held[1] == 0:
                    del self._held[channel_id]

    def chan_put(self, channel_id, tag, data, timeout):
        return self.backend(channel_id).put(tag, data, timeout)

    def chan_get(self, channel_id, timeout):
        return self.backend(channel_id).get(timeout)

    def chan_close(self, channel_id):
        return self.backend(channel_id).close()

    def chan_state(self, channel_id):
        return self.backend(channel_id).state()


class ChannelClosed(Exception):
    """put() on a closed channel, or get() on a closed channel with nothing left in it."""

    __module__ = "pyhost.channel"  # public there (and as pyhost.ChannelClosed)


# The channels of this process that workers' operations are done on: the host's (or in plain
# python the extension's, the same), else the thread queues'.
channels = native if native is not None else ThreadChannels()


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
        return channels.chan_close(channel_id)
    if op == RPC_STATE:
        return channels.chan_state(channel_id)
    if op not in (RPC_PUT, RPC_GET):
        raise ValueError(f"unknown channel operation {op!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = SERVE_SLICE if deadline is None else min(SERVE_SLICE, max(0.0, deadline - time.monotonic()))
        if op == RPC_PUT:
            result = channels.chan_put(channel_id, tag, data, remaining)
            status = result
        else:
            result = channels.chan_get(channel_id, remaining)
            status = result[0]
        timed_out = status == TIMEOUT
        if not timed_out or (deadline is not None and time.monotonic() >= deadline) or not worker_alive():
            return result
