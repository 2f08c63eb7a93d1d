"""The executor's local workers: a sub-interpreter on a host thread, a child process, or a
thread of this interpreter (mode "threads", and "freethreaded" on a free-threaded CPython).

All have the same face, which is what the executor uses (mpi.py's RankWorker has it too):
  Worker(index, setup, output) starts it (setup: protocol's TAG_SETUP payload, setup_message());
  send(tag, data), receive() -> (tag, data) or None when the worker is gone, stop(),
  finish() -> why it ended (None if it stopped when asked), kill(), running_call() -> the id of
  the call it was running when it died, and `index`, `pid`;
  and as class attributes: `calls`, the codec of its calls and results (pickling.PickledCalls
  for workers beyond this interpreter), `forwards_output` (it wants a TaskOutput), and
  `loads_main_script` (it may run the main script to find functions: the executor then refuses
  to be made by the script's unguarded top level).
"""
import os
import sys
import threading

from . import channel_rpc, forkserver, protocol, ranks
from .output import OutputForwarder, OutputPipe, TaskOutput
from .pickling import PickledCalls
from .worker import run_chunk

__all__ = ["InterpreterWorker", "ProcessWorker", "ThreadWorker", "TaskOutput", "setup_message",
           "describe_exit", "plain_python_program", "under_host"]

# Code each sub-interpreter worker runs (filled in: where the pyhost package and the native
# module are, the module's name, the channel ids). A new interpreter's sys.path is CPython's
# default one (PYTHONPATH, the standard library, site-packages), which need not hold them; the
# executor's own sys.path comes with the setup message, once pyhost is imported.
# Closing the outbox at the end tells the executor the worker is gone, whatever happened.
_INTERPRETER_MAIN = (
    "import sys\n"
    "sys.path += [p for p in {paths!r} if p not in sys.path]\n"
    "import {native} as _native\n"
    "try:\n"
    "    import pyhost._executor.worker as _worker\n"
    "    _worker.serve_interpreter({inbox}, {outbox}, {native!r})\n"
    "finally:\n"
    "    _native.chan_close({outbox})\n"
)


def _interpreter_main(native, inbox, outbox):
    """The code of a sub-interpreter worker: `native` (the module of channels and interpreter
    threads) is imported there from where it was imported here, as is pyhost."""
    pyhost_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [pyhost_root]
    native_file = getattr(native, "__file__", None)  # None: built into the pyhost program
    if native_file:
        paths.append(os.path.dirname(os.path.abspath(native_file)))
    return _INTERPRETER_MAIN.format(paths=paths, native=native.__name__, inbox=inbox, outbox=outbox)


# Code each process worker runs: `pyhost run -c` (fds filled in).
_PROCESS_MAIN = "import pyhost._executor.worker as w; w.serve_process({}, {}, {})"


class InterpreterWorker:
    """An own-GIL sub-interpreter on a host thread, fed through two byte channels of the process.
    Under pyhost its output needs no forwarding: it is set up to write as the task (same process,
    same mux). In plain python (the `_pyhost_subinterpreters` extension gives the same channels
    and threads) it writes to the process's stdout and stderr, as a thread would."""

    calls = PickledCalls
    forwards_output = False
    loads_main_script = True

    def __init__(self, index, setup, output=None):
        native = channel_rpc.native  # `_pyhost`, or `_pyhost_subinterpreters` in plain python
        self._native = native
        self.index = index
        self.pid = os.getpid()
        self.inbox = native.chan_new(0)
        self.outbox = native.chan_new(0)
        # The worker holds a reference to each channel too, released when its loop ends.
        native.chan_retain(self.inbox)
        native.chan_retain(self.outbox)
        self.send(protocol.TAG_SETUP, setup)
        self.handle = native.interp_start(_interpreter_main(native, self.inbox, self.outbox))

    def send(self, tag, data):
        self._native.chan_put(self.inbox, tag, data, None)

    def receive(self):
        status, tag, data = self._native.chan_get(self.outbox, None)
        return (tag, data) if status == 0 else None

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        _, error = self._native.interp_join(self.handle, None)
        self._native.chan_release(self.inbox)
        self._native.chan_release(self.outbox)
        return error

    def kill(self):
        pass  # a sub-interpreter cannot be killed; it stops after its current call

    def running_call(self):
        return None  # a sub-interpreter that crashes takes the process with it


def sandbox_words(sandbox, mode):
    """pyhost.Executor(..., sandbox=...): None/False, True, or a dict of read, write (lists of
    paths), net, best_effort (bools) and limits ({name: int}, as --sandbox-limit): the options of
    `pyhost __sandboxed` that confine each process worker as `pyhost run --sandbox` does."""
    if not sandbox:
        return []
    if mode != "processes":
        raise ValueError(f"sandbox= confines worker processes: it needs mode 'processes', not {mode!r}")
    settings = {} if sandbox is True else dict(sandbox)
    unknown = set(settings) - {"read", "write", "net", "best_effort", "limits"}
    if unknown:
        raise ValueError(f"unknown sandbox setting(s) {sorted(unknown)}: use read, write, net, "
                         "best_effort, limits")
    words = []
    main_path = getattr(sys.modules.get("__main__"), "__file__", None)
    reads = list(settings.get("read", ()))
    if main_path:  # the worker loads the script as __mp_main__
        reads.append(os.path.dirname(os.path.abspath(main_path)))
    for path in reads:
        words += ["--sandbox-read", os.fspath(path)]
    for path in settings.get("write", ()):
        words += ["--sandbox-write", os.fspath(path)]
    if settings.get("net"):
        words.append("--sandbox-net")
    if settings.get("best_effort"):
        words.append("--sandbox-best-effort")
    for name, value in dict(settings.get("limits", {})).items():
        words += ["--sandbox-limit", f"{name}={int(value)}"]
    return words


class ProcessWorker:
    """A `pyhost run -c` child process (forked from the fork server when there is one) that
    serves over a socket; its output is forwarded to the task, its channel operations served
    here, and a shared memory word says which call it runs (the one that killed it, if it dies)."""

    calls = PickledCalls
    forwards_output = True  # its stdout/stderr are pipes: give it the task's TaskOutput
    loads_main_script = True
    sandbox = ()  # options of `pyhost __sandboxed` that confine it (ProcessWorker.confined)

    @classmethod
    def confined(cls, words):
        """The worker type of Executor("processes", sandbox=...): each worker confined as
        `pyhost run --sandbox` confines its workers (words: sandbox_words())."""
        return type("SandboxedProcessWorker", (cls,), {"sandbox": tuple(words)})

    def __init__(self, index, setup, output=None):
        import mmap  # here, not at the top: sub-interpreter executors need none of these
        import socket
        import subprocess

        sandbox = self.sandbox

        self.index = index
        ours, theirs = socket.socketpair()
        rpc_ours, rpc_theirs = socket.socketpair()
        progress_fd = os.memfd_create("pyhost-executor-progress")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            os.ftruncate(progress_fd, 8)
            self._progress_map = mmap.mmap(progress_fd, 8)
            self.progress = memoryview(self._progress_map).cast("q")
            self.progress[0] = -1
            fds = (theirs.fileno(), rpc_theirs.fileno(), progress_fd)
        except BaseException:
            for fd in (out_r, err_r, out_w, err_w, progress_fd):
                os.close(fd)
            theirs.close()
            rpc_theirs.close()
            raise
        # The worker's ends stay open here until it has them: forked (the server's answer), or
        # started afresh, at once or when the server cannot fork it.
        kept = [theirs.close, rpc_theirs.close, lambda: os.close(progress_fd),
                lambda: os.close(out_w), lambda: os.close(err_w)]

        def on_answer(forked):
            try:
                if forked:
                    return None
                self._spawned = True
                ProcessWorker._started_afresh += 1
                # -c, not -m: runpy and importlib.util stay out of the worker's start-up.
                command = [_host_executable(), "run", "-c", _PROCESS_MAIN.format(*fds)]
                if sandbox:  # confined first, then the same command inside
                    command[1:1] = ["__sandboxed", *sandbox, "--"]
                # Its stdout/stderr come back here, to be written as the calling task's output.
                return subprocess.Popen(command, pass_fds=fds, stdin=subprocess.DEVNULL,
                                        stdout=out_w, stderr=err_w)
            finally:
                while kept:
                    kept.pop()()

        # False (forked); True (started afresh: the fork server may start after the worker's
        # first message); "up" (that message came: start it on the next receive()).
        self._spawned = False
        try:
            # A sandboxed worker starts afresh: the fork server is not confined.
            forked = None if sandbox else self._fork(fds + (out_w, err_w), on_answer)
            self.process = forked or on_answer(False)
        except BaseException:
            os.close(out_r)
            os.close(err_r)
            raise
        output = output or TaskOutput()
        self.output = OutputForwarder(index, [OutputPipe(out_r, 1, output), OutputPipe(err_r, 2, output)])
        self.frames = protocol.Connection(ours)
        self.rpc = protocol.Connection(rpc_ours)
        self.alive = True
        self.rpc_thread = threading.Thread(target=self._serve_channels, name=f"pyhost-executor-rpc-{index}")
        self.rpc_thread._pyhost_internal = True
        self.rpc_thread.start()
        self.send(protocol.TAG_SETUP, setup)

    @property
    def pid(self):
        return self.process.pid

    _started_afresh = 0  # workers this process started afresh

    @staticmethod
    def _fork(fds, on_answer):
        """The worker asked of this process's fork server, or None (none ready: start it afresh)."""
        server = forkserver.current_server()
        if server is None and ProcessWorker._started_afresh >= 2:
            # A third worker afresh would cost what starting the server costs, and the server
            # then forks it and every later one (a first executor of 8 workers: 3 start-ups,
            # not 8; one of 2 is left as it was, 2 start-ups side by side on 2 cores).
            forkserver.start_in_background(_host_executable())
            server = forkserver.current_server()
        if server is None:
            return None
        try:
            return server.fork(fds, dict(os.environ), os.getcwd(), on_answer)
        except OSError:
            return None

    def _serve_channels(self):
        serve_worker_requests(self.rpc, lambda: self.alive)

    def send(self, tag, data):
        try:
            self.frames.send(tag, data)
        except OSError:
            pass  # it died: receive() sees the end of its stream and reports it

    def receive(self):
        if self._spawned == "up":
            # A worker started afresh is up and its first message delivered (not delayed by
            # this): the fork server can start beside it now, so that later workers are forked.
            self._spawned = False
            forkserver.start_in_background(_host_executable())
        try:
            message = self.frames.receive()
        except OSError:
            message = None
        if self._spawned is True and message is not None:
            self._spawned = "up"
        # What the calls printed comes out before their results are delivered.
        self.output.flush()
        return message

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        """Waits for the process; returns None for a clean stop, else why it ended."""
        import socket

        code = self.process.wait()
        self.alive = False
        for connection in (self.frames, self.rpc):
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.rpc_thread.join()
        self.output.join()
        self.frames.close()
        self.rpc.close()
        return None if code == 0 else code

    def kill(self):
        try:
            self.process.kill()
        except OSError:
            pass

    def running_call(self):
        """The id of the call the worker was running when it died (None between calls)."""
        call_id = self.progress[0]
        return None if call_id < 0 else call_id




class DirectCalls:
    """The call codec of ThreadWorker: nothing is pickled, a call's objects are its objects (as
    with concurrent.futures.ThreadPoolExecutor: lambdas work, arguments are shared)."""

    @staticmethod
    def encode_call(fn, args, kwargs):
        return fn, args, kwargs

    @staticmethod
    def chunk_function(fn):
        from functools import partial

        return partial(run_chunk, fn)

    @staticmethod
    def encode_batch(calls):
        return calls

    @staticmethod
    def decode_results(data):
        return data

    @staticmethod
    def decode_value(value):
        return value

    @staticmethod
    def decode_error(exc):
        return exc


class ThreadWorker:
    """A thread of this interpreter. The executor's reader of this worker is that thread: its
    receive() runs the batch it was sent and returns the results, so a call costs no thread
    hand-off beyond the one to the reader. `setup` is not used: the thread shares this
    interpreter's sys.path, main script and task (it inherits the task that made the executor)."""

    calls = DirectCalls
    forwards_output = False
    loads_main_script = False

    def __init__(self, index, setup=None, output=None):
        import queue

        self.index = index
        self.pid = os.getpid()
        self.label = "thread worker"
        self._inbox = queue.SimpleQueue()

    def send(self, tag, data):
        self._inbox.put((tag, data))

    def receive(self):
        import time

        tag, calls = self._inbox.get()
        if tag != protocol.TAG_CALLS:
            return protocol.TAG_BYE, b""
        started = time.perf_counter()
        results = []
        for call_id, (fn, args, kwargs) in calls:
            try:
                results.append((call_id, True, fn(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - every failure goes to its future
                results.append((call_id, False, exc))
        return protocol.TAG_RESULTS, (results, time.perf_counter() - started)

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        return None  # a thread's calls cannot end it

    def kill(self):
        pass  # a thread cannot be killed; it stops after its current batch

    def running_call(self):
        return None


def serve_worker_requests(connection, worker_alive):
    """Executor side: do the channel operations one process worker asks for, until it goes.
    Each channel it uses is kept alive for it until then, as its own Channel objects would."""
    import pickle

    retained = set()
    here = channel_rpc.rank()
    channels = channel_rpc.channels  # the host's, or plain python's thread queues
    try:
        while True:
            request = connection.receive()
            if request is None:
                return
            op, payload = request
            try:
                channel_id, tag, data, timeout, owner_rank = channel_rpc.decode_request(payload)
                if owner_rank != here:  # a channel of another rank: asked of it (blocking)
                    reply = (True, ranks.remote_op(owner_rank, op, channel_id, tag, data, timeout))
                else:
                    if channel_id not in retained:
                        channels.chan_retain(channel_id)
                        retained.add(channel_id)
                    reply = (True, channel_rpc.serve_one(op, channel_id, tag, data, timeout, worker_alive))
            except Exception as exc:  # noqa: BLE001 - the worker raises it
                reply = channel_rpc.error_reply(exc)
            try:
                connection.send(0, pickle.dumps(reply))
            except OSError:
                return
    finally:
        for channel_id in retained:
            channels.chan_release(channel_id)


def describe_exit(code):
    """'signal 11 (SIGSEGV)' / 'exit status 7' for a Popen return code."""
    if code is None:
        return "no status"
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"signal {-code} ({name})"
    return f"exit status {code}"


def _host_executable():
    """The pyhost program whose `pyhost run -c` starts process workers: the one this interpreter
    runs in, or, in plain python (a venv's, a notebook's kernel), the program a `pip install`
    put into the pyhost package or a checkout built (pyhost._binary)."""
    if under_host():
        return os.readlink("/proc/self/exe")
    from .. import _binary

    return _binary.executable()


def under_host():
    """This interpreter is the pyhost program's (its `_pyhost` module is built in), not a plain
    python."""
    return "_pyhost" in sys.builtin_module_names


def plain_python_program():
    """In plain python: the pyhost program that process workers would run, or None with why
    there is none (the FileNotFoundError's message, naming the places looked at)."""
    from .. import _binary

    try:
        return _binary.executable(), None
    except FileNotFoundError as missing:
        return None, str(missing)


def setup_message(index, mode):
    main = sys.modules.get("__main__")
    main_path = getattr(main, "__file__", None)
    settings = {
        "sys_path": list(sys.path),
        "main_path": os.path.abspath(main_path) if main_path else None,
        "argv": list(sys.argv),
        "task": None,
        "worker_index": index,
        "mode": mode,
    }
    host = sys.modules.get("pyhost._host")
    if host is not None:
        task = host.current_task()
        if task is not None:
            from .. import _streams

            settings.update(task=(task.task_id, task.worker_id), host_settings=dict(host.settings))
            # Sub-interpreter workers route their output as the task's (same process, same mux).
            if mode == "subinterpreters" and isinstance(sys.stdout, _streams.TaskStream):
                settings.update(capture=True, passthrough=sys.stdout._passthrough)
    import pickle

    return pickle.dumps(settings)
