"""Tagged, length-prefixed messages over a socket (pyhost.Executor's process workers).

Imports nothing a fresh interpreter lacks (no socket, no threading): a process worker's start-up
is on the path to the executor's first result."""
import os
import struct
from _thread import allocate_lock

_HEADER = struct.Struct("<BI")  # tag, payload length


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self._reader = sock.makefile("rb", buffering=1 << 16)
        self._send_lock = allocate_lock()

    def send(self, tag, data):
        header = _HEADER.pack(tag, len(data))
        with self._send_lock:
            if len(data) < 65536:  # one system call for the common small message
                self.sock.sendall(header + data)
            else:  # no copy of a large payload
                self.sock.sendall(header)
                self.sock.sendall(data)

    def receive(self):
        """(tag, payload), or None at the end of the stream."""
        header = self._reader.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return None
        tag, size = _HEADER.unpack(header)
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
    """The same messages over a socket's file descriptor, without the socket module (the process
    worker's end)."""

    def __init__(self, fd):
        self.fd = fd
        self._reader = open(fd, "rb", buffering=1 << 16, closefd=False)
        self._send_lock = allocate_lock()
        self.sock = self  # send() below writes through sendall()

    def sendall(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def close(self):
        try:
            self._reader.close()
        finally:
            os.close(self.fd)
