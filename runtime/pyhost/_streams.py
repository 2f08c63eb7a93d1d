"""sys.stdout / sys.stderr replacements that route each task's output to the host, per task."""
import io
import sys

import _pyhost

STDOUT, STDERR = 1, 2


class TaskStream(io.TextIOBase):
    """Text stream whose writes go to the host's output multiplexer, tagged with the current task.

    Writes made outside any task (e.g. by a thread that outlived its task) go to the real stream.
    """

    def __init__(self, stream_no, real, current_task, passthrough):
        self._no = stream_no
        self._real = real
        self._current_task = current_task
        self._passthrough = passthrough
        self._buffer = None

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "surrogateescape"

    @property
    def line_buffering(self):
        return True

    @property
    def buffer(self):
        if self._buffer is None:
            self._buffer = _TaskBinaryStream(self)
        return self._buffer

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        task = self._current_task()
        if task is None:
            return self._real.write(text)
        _pyhost.write(task.task_id, self._no, text)
        return len(text)

    def flush(self):
        if self._current_task() is None and self._real is not None:
            self._real.flush()

    def isatty(self):
        return self._passthrough and self._real.isatty()

    def fileno(self):
        # Child processes given sys.stdout write to the real descriptor, untagged.
        return self._real.fileno()


class _TaskBinaryStream(io.RawIOBase):
    """sys.stdout.buffer of a TaskStream: bytes are decoded as UTF-8 (surrogateescape) and routed."""

    def __init__(self, text_stream):
        self._text = text_stream

    def writable(self):
        return True

    def write(self, data):
        view = memoryview(data).cast("B")
        self._text.write(bytes(view).decode("utf-8", "surrogateescape"))
        return len(view)

    def flush(self):
        self._text.flush()


def install(current_task, passthrough):
    """Routes sys.stdout/sys.stderr per task; streams already installed are kept, not replaced."""
    for name, number, real in (("stdout", STDOUT, sys.__stdout__), ("stderr", STDERR, sys.__stderr__)):
        stream = getattr(sys, name)
        if isinstance(stream, TaskStream):
            stream._passthrough = passthrough
        else:
            setattr(sys, name, TaskStream(number, real, current_task, passthrough))


def uninstall():
    if isinstance(sys.stdout, TaskStream):
        sys.stdout = sys.__stdout__
    if isinstance(sys.stderr, TaskStream):
        sys.stderr = sys.__stderr__
