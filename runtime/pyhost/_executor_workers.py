"""The executor's side of its workers: a sub-interpreter on a host thread, or a child process.

Both have the same face: send(tag, data), receive() -> (tag, data) or None when the worker is
gone, stop(), finish() -> why it ended (None if it stopped when asked), kill().
"""
import os
import sys
import threading

from . import _executor_forkserver as _forkserver
from . import _executor_worker as protocol

# Code each sub-interpreter worker runs (channel ids are filled in).
# Closing the outbox at the end tells the executor the worker is gone, whatever happened.
_INTERPRETER_MAIN = (
    "import _pyhost\n"
    "try:\n"
    "    import pyhost._executor_worker as _worker\n"
    "    _worker.serve_interpreter({inbox}, {outbox})\n"
    "finally:\n"
    "    _pyhost.chan_close({outbox})\n"
)


# Code each process worker runs: `pyhost run -c` (fds filled in).
_PROCESS_MAIN = "import pyhost._executor_worker as w; w.serve_process({}, {}, {})"


class InterpreterWorker:
    # Its output needs no forwarding: it is set up to write as the task (same process, same mux).
    def __init__(self, index, setup, output=None):
        import _pyhost

        self._pyhost = _pyhost
        self.index = index
        self.pid = os.getpid()
        self.inbox = _pyhost.chan_new(0)
        self.outbox = _pyhost.chan_new(0)
        # The worker holds a reference to each channel too, released when its loop ends.
        _pyhost.chan_retain(self.inbox)
        _pyhost.chan_retain(self.outbox)
        self.send(protocol.TAG_SETUP, setup)
        self.handle = _pyhost.interp_start(_INTERPRETER_MAIN.format(inbox=self.inbox, outbox=self.outbox))

    def send(self, tag, data):
        self._pyhost.chan_put(self.inbox, tag, data, None)

    def receive(self):
        status, tag, data = self._pyhost.chan_get(self.outbox, None)
        return (tag, data) if status == 0 else None

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        _, error = self._pyhost.interp_join(self.handle, None)
        self._pyhost.chan_release(self.inbox)
        self._pyhost.chan_release(self.outbox)
        return error

    def kill(self):
        pass  # a sub-interpreter cannot be killed; it stops after its current call

    def running_call(self):
        return None  # a sub-interpreter that crashes takes the process with it


class TaskOutput:
    """Where the output of an executor's process workers goes: the stdout/stderr of the task that
    created the executor (under pyhost with several tasks: that task's "[task k]" lines and its
    --json record), whichever thread forwards it."""

    def __init__(self):
        self._streams = {1: sys.stdout, 2: sys.stderr}
        self._task = None
        host = sys.modules.get("pyhost._host")
        if host is not None:
            self._task = host.current_task()

    def write(self, stream_no, text):
        stream = self._streams[stream_no]
        if stream is None:
            return
        streams = sys.modules.get("pyhost._streams")
        if self._task is not None and streams is not None and isinstance(stream, streams.TaskStream):
            import _pyhost

            _pyhost.write(self._task.task_id, stream_no, text)
            return
        stream.write(text)
        stream.flush()


class _OutputPipe:
    """The executor's end of a process worker's stdout or stderr: whole lines go to the task."""

    def __init__(self, fd, stream_no, output):
        os.set_blocking(fd, False)
        self.fd = fd
        self.stream_no = stream_no
        self.output = output
        self.partial = b""
        self.lock = threading.Lock()
        self.ended = False

    def pump(self):
        """Forwards what the pipe holds now, complete lines only (the rest waits for its end of
        line, or for the end of the pipe). False once the pipe has ended."""
        with self.lock:  # the forwarder and a reader about to deliver results both pump
            if self.ended:
                return False
            chunks = [self.partial]
            while True:
                try:
                    data = os.read(self.fd, 65536)
                except BlockingIOError:
                    break
                except InterruptedError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.ended = True
                    break
                chunks.append(data)
            data = b"".join(chunks)
            if self.ended and data and not data.endswith(b"\n"):
                data += b"\n"
            cut = data.rfind(b"\n") + 1
            self.partial = data[cut:]
            try:
                if cut:
                    self.output.write(self.stream_no, data[:cut].decode("utf-8", "surrogateescape"))
            except BrokenPipeError:
                # Nobody reads the task's stream any more: closing the pipe makes the worker's
                # writes fail too, as they would in the task itself.
                self.ended = True
            except Exception:  # noqa: BLE001 - the task's stream is unusable: drop the output
                pass
            # Ended, the fd stays open until the forwarder has stopped polling it (close()): a
            # reader's flush that closed it under the forwarder's poll let the number be reused
            # (a socket made a moment later) and the forwarder wait on that for ever.
            return not self.ended

    def close(self):
        os.close(self.fd)


class _OutputForwarder:
    """A thread that moves a process worker's stdout and stderr to the task as they come."""

    def __init__(self, index, pipes):
        self.pipes = pipes
        self.thread = threading.Thread(target=self._run, name=f"pyhost-executor-output-{index}")
        self.thread._pyhost_internal = True
        self.thread.start()

    def _run(self):
        import select

        poller = select.poll()
        by_fd = {pipe.fd: pipe for pipe in self.pipes}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        while by_fd:
            for fd, _ in poller.poll():
                pipe = by_fd.get(fd)
                if pipe is not None and not pipe.pump():
                    poller.unregister(fd)
                    del by_fd[fd]
                    pipe.close()

    def flush(self):
        """Forwards everything already written (the worker flushes before it sends results)."""
        for pipe in self.pipes:
            pipe.pump()

    def join(self):
        # A process the worker started may hold the pipes open after the worker is gone: its
        # output still goes to the task as long as it lasts, without holding up the executor.
        self.thread.join(5.0)


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
        raise ValueError(f"unknown sandbox setting(s) {sorted(unknown)}: use read, write, net, best_effort, limits")
    words = []
    main = sys.modules.get("__main__")
    main_path = getattr(main, "__file__", None)
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
    def __init__(self, index, setup, output=None, sandbox=None):
        import mmap  # here, not at the top: sub-interpreter executors need none of these
        import socket
        import subprocess

        from . import _frames

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
        self.output = _OutputForwarder(index, [_OutputPipe(out_r, 1, output), _OutputPipe(err_r, 2, output)])
        self.frames = _frames.Connection(ours)
        self.rpc = _frames.Connection(rpc_ours)
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
        server = _forkserver.current_server()
        if server is None and ProcessWorker._started_afresh >= 2:
            # A third worker afresh would cost what starting the server costs, and the server
            # then forks it and every later one (a first executor of 8 workers: 3 start-ups,
            # not 8; one of 2 is left as it was, 2 start-ups side by side on 2 cores).
            _forkserver.start_in_background(_host_executable())
            server = _forkserver.current_server()
        if server is None:
            return None
        try:
            return server.fork(fds, dict(os.environ), os.getcwd(), on_answer)
        except OSError:
            return None

    def _serve_channels(self):
        from .channel import serve_worker_requests

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
            _forkserver.start_in_background(_host_executable())
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
    # The pyhost binary this interpreter runs in.
    return os.readlink("/proc/self/exe")


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
            from . import _streams

            settings.update(task=(task.task_id, task.worker_id), host_settings=dict(host.settings))
            # Sub-interpreter workers route their output as the task's (same process, same mux).
            if mode == "subinterpreters" and isinstance(sys.stdout, _streams.TaskStream):
                settings.update(capture=True, passthrough=sys.stdout._passthrough)
    import pickle

    return pickle.dumps(settings)
