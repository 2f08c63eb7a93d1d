"""pyhost.Channel: a bounded FIFO between threads, sub-interpreter workers and process workers.

Under pyhost a Channel is a byte channel of the host process (C++), reachable from every
interpreter in it; a process worker of pyhost.Executor reaches its parent's channels through the
executor, which serves the operations; under `pyhost run --engine mpi`, workers on other ranks
reach it by messages to its rank (_executor_mpi.py). bytes, bytearray and memoryview items cross as raw bytes
(no pickling) and arrive as bytes; anything else crosses by pickle. Under plain python it is a
thread-safe queue with the same interface.
"""
import os
import pickle
import queue
import threading
import time
from collections import deque

__all__ = ["Channel", "ChannelClosed"]

_RAW, _PICKLED = 0, 1
_OK, _TIMEOUT, _CLOSED = 0, 1, 2
# Operations a process worker asks its executor to do on the parent's channels.
RPC_PUT, RPC_GET, RPC_CLOSE, RPC_STATE = 1, 2, 3, 4

try:
    import _pyhost
except ImportError:  # plain python
    _pyhost = None


class ChannelClosed(Exception):
    """put() on a closed channel, or get() on a closed channel with nothing left in it."""


def _encode(item):
    if isinstance(item, (bytes, bytearray, memoryview)):
        return _RAW, item
    return _PICKLED, pickle.dumps(item, pickle.HIGHEST_PROTOCOL)


def _decode(tag, data):
    return data if tag == _RAW else pickle.loads(data)


def _timeout_of(block, timeout):
    if not block:
        return 0.0
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    return timeout


class Channel:
    """Bounded FIFO (maxsize <= 0: unbounded). put/get block, with optional timeouts (queue.Full /
    queue.Empty when they run out); close() ends it: puts raise ChannelClosed, gets drain what is
    left and then raise ChannelClosed; iterating yields items until then."""

    def __init__(self, maxsize=0):
        self._backend = _LocalBackend.create(maxsize) if _pyhost else _ThreadBackend(maxsize)

    def put(self, item, block=True, timeout=None):
        tag, data = _encode(item)
        status = self._backend.put(tag, data, _timeout_of(block, timeout))
        if status == _TIMEOUT:
            raise queue.Full
        if status == _CLOSED:
            raise ChannelClosed("put() on a closed channel")

    def get(self, block=True, timeout=None):
        status, tag, data = self._backend.get(_timeout_of(block, timeout))
        if status == _TIMEOUT:
            raise queue.Empty
        if status == _CLOSED:
            raise ChannelClosed("get() on a closed channel with nothing left in it")
        return _decode(tag, data)

    def put_nowait(self, item):
        self.put(item, block=False)

    def get_nowait(self):
        return self.get(block=False)

    def close(self):
        self._backend.close()

    @property
    def closed(self):
        return self._backend.state()[1]

    @property
    def maxsize(self):
        return self._backend.state()[2]

    def qsize(self):
        return self._backend.state()[0]

    def empty(self):
        return self.qsize() == 0

    def full(self):
        size, _, maxsize = self._backend.state()
        return 0 < maxsize <= size

    def __iter__(self):
        while True:
            try:
                yield self.get()
            except ChannelClosed:
                return

    def __reduce__(self):
        return _rebuild, self._backend.reference()

    def __repr__(self):
        size, closed, maxsize = self._backend.state()
        return f"<pyhost.Channel {size}/{maxsize or 'inf'} items{' closed' if closed else ''}>"


def _rank():
    return int(os.environ.get("PYHOST_RANK", "0"))


def _rebuild(channel_id, owner_pid, owner_rank=0):
    channel = Channel.__new__(Channel)
    from . import _executor_worker

    if owner_rank != _rank():
        if _executor_worker.rpc is not None:  # a process worker: its executor relays
            channel._backend = _ProxyBackend(_executor_worker.rpc, channel_id, owner_pid, owner_rank)
        else:
            from ._executor_mpi import RemoteBackend

            channel._backend = RemoteBackend(owner_rank, channel_id, owner_pid)
        return channel
    if os.getpid() == owner_pid:
        channel._backend = _LocalBackend.attach(channel_id)
        return channel
    if _executor_worker.rpc is not None and os.getppid() == owner_pid:
        channel._backend = _ProxyBackend(_executor_worker.rpc, channel_id, owner_pid)
        return channel
    raise RuntimeError(
        "a pyhost.Channel can be used by the process that made it, its sub-interpreters and "
        "the process workers of its pyhost.Executor; not by this process")


class _LocalBackend:
    """A byte channel of this process's host."""

    __slots__ = ("id", "_release")

    @classmethod
    def create(cls, maxsize):
        return cls(_pyhost.chan_new(max(0, int(maxsize))))

    @classmethod
    def attach(cls, channel_id):
        _pyhost.chan_retain(channel_id)
        return cls(channel_id)

    def __init__(self, channel_id):
        self.id = channel_id
        self._release = _pyhost.chan_release

    def __del__(self):
        try:
            self._release(self.id)
        except Exception:
            pass

    def put(self, tag, data, timeout):
        return _pyhost.chan_put(self.id, tag, data, timeout)

    def get(self, timeout):
        return _pyhost.chan_get(self.id, timeout)

    def close(self):
        _pyhost.chan_close(self.id)

    def state(self):
        return _pyhost.chan_state(self.id)

    def reference(self):
        return self.id, os.getpid(), _rank()


class _ProxyBackend:
    """A parent's channel seen from a process worker: each operation is a request to the
    executor (one at a time per worker)."""

    def __init__(self, connection, channel_id, owner_pid, owner_rank=None):
        self._connection = connection
        self.id = channel_id
        self._owner = owner_pid
        self._rank = _rank() if owner_rank is None else owner_rank
        self._lock = threading.Lock()

    def _call(self, op, tag=0, data=b"", timeout=None):
        request = pickle.dumps((self.id, tag, bytes(data), timeout, self._rank))
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


class _ThreadBackend:
    """Plain python: the same channel between threads of one interpreter."""

    def __init__(self, maxsize):
        self._maxsize = max(0, int(maxsize))
        self._items = deque()
        self._closed = False
        self._cond = threading.Condition()

    def _wait(self, ready, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ready():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._cond.wait(remaining)
        return True

    def put(self, tag, data, timeout):
        with self._cond:
            room = lambda: self._closed or not self._maxsize or len(self._items) < self._maxsize
            if not self._wait(room, timeout):
                return _TIMEOUT
            if self._closed:
                return _CLOSED
            self._items.append((tag, bytes(data) if tag == _RAW else data))
            self._cond.notify_all()
            return _OK

    def get(self, timeout):
        with self._cond:
            if not self._wait(lambda: self._closed or self._items, timeout):
                return _TIMEOUT, 0, None
            if not self._items:
                return _CLOSED, 0, None
            tag, data = self._items.popleft()
            self._cond.notify_all()
            return _OK, tag, data

    def close(self):
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def state(self):
        with self._cond:
            return len(self._items), self._closed, self._maxsize

    def reference(self):
        raise TypeError("a pyhost.Channel made under plain python is shared between threads only")


# How long a served operation waits before checking that its worker is still there.
_SERVE_SLICE = 0.25


def serve_worker_requests(connection, worker_alive):
    """Executor side: do the channel operations one process worker asks for, until it goes.
    Each channel it uses is kept alive for it until then, as its own Channel objects would."""
    retained = set()
    here = _rank()
    try:
        while True:
            request = connection.receive()
            if request is None:
                return
            op, payload = request
            try:
                channel_id, tag, data, timeout, owner_rank = pickle.loads(payload)
                if owner_rank != here:  # a channel of another rank: asked of it (blocking)
                    from ._executor_mpi import remote_op

                    reply = (True, remote_op(owner_rank, op, channel_id, tag, data, timeout))
                else:
                    if channel_id not in retained:
                        _pyhost.chan_retain(channel_id)
                        retained.add(channel_id)
                    reply = (True, _serve_one(op, channel_id, tag, data, timeout, worker_alive))
            except Exception as exc:  # noqa: BLE001 - the worker raises it
                reply = (False, exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
            try:
                connection.send(0, pickle.dumps(reply))
            except OSError:
                return
    finally:
        for channel_id in retained:
            _pyhost.chan_release(channel_id)


def _picklable(exc):
    try:
        pickle.loads(pickle.dumps(exc))
        return True
    except Exception:
        return False


def _serve_one(op, channel_id, tag, data, timeout, worker_alive):
    if op == RPC_CLOSE:
        return _pyhost.chan_close(channel_id)
    if op == RPC_STATE:
        return _pyhost.chan_state(channel_id)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = _SERVE_SLICE if deadline is None else min(_SERVE_SLICE, max(0.0, deadline - time.monotonic()))
        if op == RPC_PUT:
            result = _pyhost.chan_put(channel_id, tag, data, remaining)
            status = result
        else:
            result = _pyhost.chan_get(channel_id, remaining)
            status = result[0]
        timed_out = status == _TIMEOUT
        if not timed_out or (deadline is not None and time.monotonic() >= deadline) or not worker_alive():
            return result
