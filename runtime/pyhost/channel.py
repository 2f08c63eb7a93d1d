"""pyhost.Channel: a bounded FIFO between threads, sub-interpreter workers and process workers.

Under pyhost a Channel is a byte channel of the host process (C++), reachable from every
interpreter in it; a process worker of pyhost.Executor reaches its parent's channels through the
executor, which serves the operations; under `pyhost run --engine mpi`, workers on other ranks
reach it by messages to its rank (_executor/ranks.py). bytes, bytearray and memoryview items
cross as raw bytes (no pickling) and arrive as bytes; anything else crosses by pickle. Under
plain python it is the same byte channel, through the `_pyhost_subinterpreters` extension (so
that sub-interpreter workers reach it), or without that extension a thread-safe queue with the
same interface.
"""
import os
import pickle
import queue
import threading
import time
from collections import deque

from ._executor import channel_rpc as _channel_rpc
from ._executor import worker as _worker
from ._executor.channel_rpc import CLOSED as _CLOSED
from ._executor.channel_rpc import OK as _OK
from ._executor.channel_rpc import PICKLED as _PICKLED
from ._executor.channel_rpc import RAW as _RAW
from ._executor.channel_rpc import TIMEOUT as _TIMEOUT
from ._executor.channel_rpc import ChannelClosed, ProxyBackend
from ._executor.channel_rpc import rank as _rank
from ._executor.ranks import RemoteBackend

__all__ = ["Channel", "ChannelClosed"]

# The host's byte channels: `_pyhost` under pyhost, the `_pyhost_subinterpreters` extension in
# plain python (so that sub-interpreter workers reach them too), or None (thread queues).
_pyhost = _channel_rpc.native


def _thread_channels():
    from ._executor import channel_rpc

    return channel_rpc.channels


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


def _rebuild(channel_id, owner_pid, owner_rank=0):
    channel = Channel.__new__(Channel)
    rpc = _worker.rpc  # set in process workers: their executor relays
    if owner_rank != _rank():
        if rpc is not None:
            channel._backend = ProxyBackend(rpc, channel_id, owner_pid, owner_rank)
        else:  # a rank of an MPI run: the channel's rank does the operations
            channel._backend = RemoteBackend(owner_rank, channel_id, owner_pid)
        return channel
    if os.getpid() == owner_pid:
        if _pyhost is None:  # plain python without the extension: a thread queue, back from a worker
            channel._backend = _thread_channels().backend(channel_id)
        else:
            channel._backend = _LocalBackend.attach(channel_id)
        return channel
    if rpc is not None and os.getppid() == owner_pid:
        channel._backend = ProxyBackend(rpc, channel_id, owner_pid)
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


class _ThreadBackend:
    """Plain python: the same channel between threads of one interpreter."""

    def __init__(self, maxsize):
        self._maxsize = max(0, int(maxsize))
        self._items = deque()
        self._closed = False
        self._cond = threading.Condition()
        self._id = None  # given when first pickled (reference())

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
        # Pickled for a process worker of this process's Executor: its operations come back to
        # the executor, which does them on this queue (channel_rpc.ThreadChannels).
        if self._id is None:
            self._id = _thread_channels().register(self)
        return self._id, os.getpid(), _rank()
