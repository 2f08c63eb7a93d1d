"""The wire format between pyhost.Executor and its workers.

Frames: a one-byte tag and a four-byte little-endian payload length, then the payload (process
workers' sockets; sub-interpreter workers and MPI letters carry the same (tag, payload) pairs
without the header). Payloads are pickles:

- to a worker: TAG_SETUP (a settings dict), TAG_CALLS ([(call_id, pickled (fn, args, kwargs)),
  ...]), TAG_STOP (empty);
- from a worker: TAG_RESULTS ((results, elapsed seconds)), each result (call_id, ok, value) where
  value is the pickled return value (ok) or an error value (not ok, see error_value); TAG_BYE
  (empty) when it stops.

A worker's start-up is on the path to the executor's first result, so this module imports only
what a fresh interpreter already has: the C `_pickle` (the `pickle` module would add `re`,
`enum` and more, ~5 ms per sub-interpreter), no `socket` or `threading`; `struct` only where
there are sockets.
"""
import os
from _pickle import PicklingError
from _pickle import dumps as _dumps
from _pickle import loads as _loads
from _thread import allocate_lock

PROTOCOL = 5  # pickle.HIGHEST_PROTOCOL

# Message tags (the same numbers on channels, process sockets and MPI letters).
TAG_SETUP, TAG_CALLS, TAG_STOP, TAG_RESULTS, TAG_BYE = 1, 2, 3, 4, 5

HEADER_SIZE = 5  # tag (1 byte), payload length (4 bytes, little-endian)
MAX_PAYLOAD = (1 << 32) - 1


class ProtocolError(Exception):
    """A message that is not what the protocol says (a worker that went wrong)."""


# --- frames -------------------------------------------------------------------------------------

def frame_header(tag, size):
    if not 0 <= tag <= 255:
        raise ValueError(f"a frame's tag is one byte, not {tag!r}")
    if not 0 <= size <= MAX_PAYLOAD:
        raise ValueError(f"a frame's payload is at most {MAX_PAYLOAD} bytes, not {size}")
    return bytes((tag,)) + size.to_bytes(4, "little")


def parse_header(header):
    """(tag, payload length) of a complete header."""
    if len(header) != HEADER_SIZE:
        raise ProtocolError(f"a frame header is {HEADER_SIZE} bytes, not {len(header)}")
    return header[0], int.from_bytes(header[1:], "little")


def _header_struct():
    # struct packs a header 4x faster than frame_header; imported by the ends of sockets only,
    # not by sub-interpreter workers, which have no frames.
    import struct

    return struct.Struct("<BI")


class Connection:
    """Frames over a socket (the executor's end of a process worker)."""

    def __init__(self, sock):
        self.sock = sock
        self._reader = sock.makefile("rb", buffering=1 << 16)
        self._send_lock = allocate_lock()
        self._header = _header_struct()

    def send(self, tag, data):
        header = self._header.pack(tag, len(data))  # struct.error beyond one byte / 4 GiB
        with self._send_lock:
            if len(data) < 65536:  # one system call for the common small message
                self.sock.sendall(header + data)
            else:  # no copy of a large payload
                self.sock.sendall(header)
                self.sock.sendall(data)

    def receive(self):
        """(tag, payload), or None at the end of the stream (a frame cut short included)."""
        header = self._reader.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE:
            return None
        tag, size = self._header.unpack(header)
        data = self._reader.read(size) if size else b""
        if len(data) < size:
            return None
        return tag, data

    def close(self):
        try:
            self._reader.close()
        finally:
            self.sock.close()


class FdConnection(Connection):
    """The same frames over a socket's file descriptor, without the socket module (the process
    worker's end)."""

    def __init__(self, fd):
        self.fd = fd
        self._reader = open(fd, "rb", buffering=1 << 16, closefd=False)
        self._send_lock = allocate_lock()
        self._header = _header_struct()
        self.sock = self  # send() writes through sendall() below

    def sendall(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def close(self):
        try:
            self._reader.close()
        finally:
            os.close(self.fd)


# --- payloads -----------------------------------------------------------------------------------

def encode_calls(calls):
    """[(call_id, payload bytes), ...] -> a TAG_CALLS payload."""
    return _dumps(calls, PROTOCOL)


def decode_calls(data):
    """A TAG_CALLS payload -> [(call_id, payload bytes), ...]. Only the list is checked here: the
    worker unpacks each pair as it runs it (worker.run_calls), which is where a malformed pair is
    found, at no cost to the well-formed ones."""
    calls = _decode(data, "calls")
    if type(calls) is not list:
        raise ProtocolError("a calls message is a list of (call id, payload) pairs")
    return calls


def error_value(exc):
    """What a worker sends back for a call that raised exc: (the exception pickled if it can be
    rebuilt, else None; its type's name; its message; its traceback as text)."""
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        exc_bytes = _dumps(exc, PROTOCOL)
        _loads(exc_bytes)  # some exceptions pickle but cannot be rebuilt
    except Exception:
        exc_bytes = None
    return (exc_bytes, f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc), text)


def encode_results(results, elapsed):
    """[(call_id, ok, value or exception), ...] -> a TAG_RESULTS payload. Each value is pickled
    on its own, so that one the executor cannot rebuild (a class only the worker can import)
    fails that call alone; so does one that cannot be pickled here."""
    encoded = []
    for call_id, ok, value in results:
        if ok:
            try:
                value = _dumps(value, PROTOCOL)
            except Exception as exc:  # noqa: BLE001
                ok = False
                value = error_value(PicklingError(f"the result of the call cannot be sent back: {exc}"))
        else:
            value = error_value(value)
        encoded.append((call_id, ok, value))
    return _dumps((encoded, elapsed), PROTOCOL)


def decode_results(data):
    """A TAG_RESULTS payload -> ([(call_id, ok, value bytes or error value), ...], elapsed)."""
    message = _decode(data, "results")
    if type(message) is not tuple or len(message) != 2:
        raise ProtocolError("a results message is (results, elapsed)")
    results, elapsed = message
    if type(results) is not list or not isinstance(elapsed, (int, float)):
        raise ProtocolError("a results message is (a list of results, elapsed seconds)")
    for result in results:
        if type(result) is not tuple or len(result) != 3 or type(result[0]) is not int:
            raise ProtocolError("a result is (call id, ok, value)")
        _, ok, value = result
        if ok is True:
            if not isinstance(value, bytes):
                raise ProtocolError("a returned value is a pickle")
        elif ok is False:
            if type(value) is not tuple or len(value) != 4:
                raise ProtocolError("an error value is (exception pickle, type, message, traceback)")
        else:
            raise ProtocolError("a result's ok is True or False")
    return results, elapsed


def _decode(data, what):
    try:
        return _loads(data)
    except Exception as exc:  # noqa: BLE001 - whatever the bytes were, they are not a message
        raise ProtocolError(f"a {what} message that cannot be unpickled: {type(exc).__name__}: {exc}") from None
