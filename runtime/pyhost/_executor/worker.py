"""The worker side of pyhost.Executor: the loop each sub-interpreter or process worker runs
(protocol.py says what goes over the wire).

A worker's start-up is on the path to the executor's first result, so this module imports only
what a fresh interpreter already has (see protocol.py), no `types`.
"""
import os
import sys
import time

from . import protocol
from .protocol import TAG_CALLS, TAG_RESULTS, TAG_SETUP, TAG_BYE
from _pickle import loads as _loads

loading_main = False  # True while a worker runs the parent's main script (Executor() is refused)
in_worker = False
rpc = None  # process workers: the connection that serves Channel operations (channel_rpc.py)


class LazyMain(type(sys)):
    """The parent's __main__ as a worker sees it: the script is run, under the name __mp_main__
    (so that its `if __name__ == "__main__":` part does not run), the first time a pickle refers
    to something in it, as multiprocessing does for its spawned children."""

    def __init__(self, path):
        super().__init__("__mp_main__")
        self.__dict__["_pyhost_main_path"] = path
        self.__dict__["_pyhost_loaded"] = False

    def __getattr__(self, name):
        if name.startswith("__") or self.__dict__["_pyhost_loaded"]:
            raise AttributeError(f"module '__main__' has no attribute {name!r}")
        self._pyhost_load()
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"the main script has no attribute {name!r}") from None

    def _pyhost_load(self):
        global loading_main
        path = self.__dict__["_pyhost_main_path"]
        self.__dict__["_pyhost_loaded"] = True
        if not path:
            raise AttributeError(
                "functions and classes defined in `-c` code or an interactive session cannot be "
                "sent to pyhost.Executor workers; define them in a script or module")
        with open(path, "rb") as source:
            code = compile(source.read(), path, "exec")
        self.__dict__.update(__file__=path, __builtins__=__builtins__)
        loading_main = True
        try:
            exec(code, self.__dict__)
        finally:
            loading_main = False


class _LazyGlobals(dict):
    """The globals of the main script's functions sent by value (see main_function) while the
    script is not loaded: the builtins they name are in it; any other name loads the script
    (once, as a reference to it would) and is read from it."""

    __slots__ = ()

    def __missing__(self, name):
        main = _main
        if main is None:
            raise KeyError(name)
        if not main.__dict__["_pyhost_loaded"]:
            main._pyhost_load()
        try:
            return main.__dict__[name]
        except KeyError:
            raise KeyError(name) from None  # not the script's: builtins are looked at next


_main = None  # the LazyMain of this worker
_lazy_globals = None
_by_value = {}  # (name, marshalled code) -> the function made from it


def main_function(name, code, defaults, kwdefaults, builtin_names):
    """A function of the parent's main script, sent by value (its code) so that a call that needs
    nothing else from the script does not run it: the worker's first result then costs no import
    of what the script imports. Once the script is loaded, its own function is used."""
    global _lazy_globals
    main = _main
    if main is not None and main.__dict__["_pyhost_loaded"]:
        loaded = main.__dict__.get(name)
        if loaded is not None:
            return loaded
    key = (name, code)
    fn = _by_value.get(key)
    if fn is None:
        import builtins
        import marshal

        if _lazy_globals is None:
            _lazy_globals = _LazyGlobals(__name__="__mp_main__", __builtins__=builtins)
        for builtin in builtin_names:
            if builtin not in _lazy_globals and builtin in builtins.__dict__:
                _lazy_globals[builtin] = builtins.__dict__[builtin]
        fn = type(main_function)(marshal.loads(code), _lazy_globals, name, defaults)
        fn.__kwdefaults__ = kwdefaults
        _by_value[key] = fn
    return fn


def run_chunk(fn, chunk):
    """One call per argument tuple of a map chunk."""
    return [fn(*args) for args in chunk]


def _install_main(path):
    global _main
    main = _main = LazyMain(path)
    sys.modules["__main__"] = main
    sys.modules["__mp_main__"] = main


def _setup(settings):
    global in_worker
    in_worker = True
    sys.path[:] = settings["sys_path"]
    _install_main(settings["main_path"])
    sys.argv = list(settings["argv"])
    task = settings.get("task")
    if task is not None:
        try:
            from .. import _host

            _host.settings.update(settings["host_settings"])
            _host._interp_task = _host.TaskContext(*task)
            # A process worker is itself a `pyhost run` task (task 0) on this thread: its calls
            # run for the calling task (pyhost.task_id, output).
            from _thread import get_ident

            _host._tasks_by_thread[get_ident()] = _host._interp_task
            if settings.get("capture"):
                from .. import _streams

                _streams.install(_host.current_task, settings.get("passthrough", False))
        except ImportError:  # not run by the host: nothing to route
            pass


def run_calls(calls, progress):
    """[(call_id, payload)] -> [(call_id, ok, return value or exception)]. progress[0] is the id
    of the call running now, -1 once the batch is done."""
    results = []
    try:
        for call_id, payload in calls:
            progress[0] = call_id  # not an int: TypeError
            try:
                fn, args, kwargs = _loads(payload)
                results.append((call_id, True, fn(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to its future
                results.append((call_id, False, exc))
    except (TypeError, ValueError) as exc:  # the pair itself: the batch is not what it says
        raise protocol.ProtocolError(f"a call is (call id, payload bytes): {exc}") from None
    progress[0] = -1
    return results


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def serve(receive, send, progress):
    """The loop: run each batch of calls, send its results, until told to stop. progress[0] is
    the id of the call running now (-1 between batches): if the worker dies, the executor reads
    it to know which call killed it."""
    while True:
        tag, data = receive()
        if tag == TAG_CALLS:
            started = time.perf_counter()
            results = run_calls(protocol.decode_calls(data), progress)
            reply = protocol.encode_results(results, time.perf_counter() - started)
            del results  # the exceptions' frames go before the next batch, not after it
            _flush()
            send(TAG_RESULTS, reply)
        elif tag == TAG_SETUP:
            _setup(_loads(data))
        else:  # TAG_STOP, or the parent is gone
            _flush()
            send(TAG_BYE, b"")
            return


def serve_interpreter(inbox, outbox, native="_pyhost"):
    """Sub-interpreter workers: two byte channels of the process, reached through `native`, the
    module the executor made them with (`_pyhost`, or `_pyhost_subinterpreters` in plain python)."""
    import importlib

    channels = importlib.import_module(native)

    def receive():
        status, tag, data = channels.chan_get(inbox, None)
        return (tag, data) if status == 0 else (protocol.TAG_STOP, b"")

    def send(tag, data):
        channels.chan_put(outbox, tag, data, None)

    try:
        serve(receive, send, [-1])  # a crash here ends the whole process: nobody to tell
    finally:
        channels.chan_release(inbox)


def serve_process(task_fd, rpc_fd, progress_fd):
    """Process workers: a socket to the executor, one for Channel operations, and a shared
    memory word saying which call runs now."""
    import _signal  # not signal, nor socket: they import enum (start-up time)
    import mmap

    global rpc
    # Ctrl-C reaches the whole process group: the executor decides what happens to its workers.
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    # stdout/stderr are pipes the executor forwards to its task: lines as they are printed.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
    rpc = protocol.FdConnection(rpc_fd)
    frames = protocol.FdConnection(task_fd)

    def receive():
        message = frames.receive()
        return message if message is not None else (protocol.TAG_STOP, b"")

    shared = mmap.mmap(progress_fd, 8)
    os.close(progress_fd)
    try:
        serve(receive, frames.send, memoryview(shared).cast("q"))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the executor is gone
    os._exit(0)  # like a multiprocessing child: no interpreter teardown to wait for
