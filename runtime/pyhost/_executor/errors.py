"""The exceptions pyhost.Executor gives its futures, and a worker's exception rebuilt here.

They are public as pyhost.WorkerCrashed and pyhost.RemoteError (pyhost.executor); __module__
says so, for tracebacks and pickles."""
import pickle


class WorkerCrashed(RuntimeError):
    """The process worker running this call died (signal or exit); the executor replaced it."""

    __module__ = "pyhost.executor"

    def __init__(self, message, signal=None, exitcode=None, pid=None):
        super().__init__(message)
        self.signal = signal
        self.exitcode = exitcode
        self.pid = pid


class RemoteError(Exception):
    """An exception from a worker that could not be sent back as itself."""

    __module__ = "pyhost.executor"

    def __init__(self, type_name, message, remote_traceback):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.remote_traceback = remote_traceback


class _RemoteTraceback(Exception):
    def __init__(self, text):
        super().__init__(text)
        self.tb = text

    def __str__(self):
        return f'\n"""\n{self.tb}"""'


def rebuild_error(value):
    """The exception of a protocol error value (protocol.error_value): itself when it can be
    unpickled here, else a RemoteError; either way with the worker's traceback as its cause."""
    exc_bytes, type_name, message, tb_text = value
    exc = None
    if exc_bytes is not None:
        try:
            exc = pickle.loads(exc_bytes)
        except Exception:
            exc = None
    if not isinstance(exc, BaseException):
        exc = RemoteError(type_name, message, tb_text)
    exc.__cause__ = _RemoteTraceback(tb_text)
    try:
        exc.remote_traceback = tb_text
    except AttributeError:
        pass
    return exc
