"""The executor's side of its workers: a sub-interpreter on a host thread, or a child process.

Both have the same face: send(tag, data), receive() -> (tag, data) or None when the worker is
gone, stop(), finish() -> why it ended (None if it stopped when asked), kill().
"""
import mmap
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading

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


class InterpreterWorker:
    def __init__(self, index, setup):
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


class ProcessWorker:
    def __init__(self, index, setup):
        from . import _frames

        self.index = index
        ours, theirs = socket.socketpair()
        rpc_ours, rpc_theirs = socket.socketpair()
        progress_fd = os.memfd_create("pyhost-executor-progress")
        try:
            os.ftruncate(progress_fd, 8)
            self._progress_map = mmap.mmap(progress_fd, 8)
            self.progress = memoryview(self._progress_map).cast("q")
            self.progress[0] = -1
            fds = (theirs.fileno(), rpc_theirs.fileno(), progress_fd)
            command = [_host_executable(), "run", "-m", "pyhost._executor_process", *map(str, fds)]
            self.process = subprocess.Popen(command, pass_fds=fds, stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
            rpc_theirs.close()
            os.close(progress_fd)
        self.pid = self.process.pid
        self.frames = _frames.Connection(ours)
        self.rpc = _frames.Connection(rpc_ours)
        self.alive = True
        self.rpc_thread = threading.Thread(target=self._serve_channels, name=f"pyhost-executor-rpc-{index}")
        self.rpc_thread._pyhost_internal = True
        self.rpc_thread.start()
        self.send(protocol.TAG_SETUP, setup)

    def _serve_channels(self):
        from .channel import serve_worker_requests

        serve_worker_requests(self.rpc, lambda: self.alive)

    def send(self, tag, data):
        try:
            self.frames.send(tag, data)
        except OSError:
            pass  # it died: receive() sees the end of its stream and reports it

    def receive(self):
        try:
            return self.frames.receive()
        except OSError:
            return None

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        """Waits for the process; returns None for a clean stop, else why it ended."""
        code = self.process.wait()
        self.alive = False
        for connection in (self.frames, self.rpc):
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.rpc_thread.join()
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
    return pickle.dumps(settings)
