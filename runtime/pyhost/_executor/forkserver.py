"""Process workers forked from a fork server instead of started afresh.

A process worker started afresh is a new `pyhost run`: 12-15 ms of CPython start-up on a small
machine before it can take a call, paid again by every worker of every executor (N workers on
fewer cores take N times that). The fork server is one more `pyhost run -c` process of this
one's, single-threaded, that has already imported what a worker needs; asked for a worker, it
forks (about a millisecond), and the child serves the executor as a fresh worker would: the
same sockets, output pipes and progress word, this process's environment and working directory
as they are at the request.

The first two workers of a process start afresh. The server starts when a third one would
(a first executor of 8 workers pays 3 start-ups, not 8), or once a worker has delivered its
first result (not before: on 2 cores a third start-up beside the first two slowed the first
result); workers asked of it while it starts wait in its socket, and every later worker is
forked. The server is this process's child and ends with
it (its control socket closes); the workers are the server's children: it waits for each and
reports how it ended (exit status, signal), so a crash still reads "signal 11 (SIGSEGV)".
PYHOST_EXECUTOR_FORKSERVER=0 starts every worker afresh. Where a fork cannot be had (no
pidfd_open, the server gone, an environment too large for one message) workers start afresh.
"""
import os
import sys
import threading
import time

# What the server runs as `pyhost run -c` (its end of the control socket filled in).
_SERVER_MAIN = "import pyhost._executor.forkserver as s; s.serve({})"
_MAX_MESSAGE = 1 << 20  # an environment beyond this goes the spawn way
_MAX_STARTS = 3  # a server that keeps dying is not started again
_START_TIMEOUT_S = 20.0  # a server not up by then is killed (the workers asked of it start afresh)


def enabled():
    return os.environ.get("PYHOST_EXECUTOR_FORKSERVER", "1").strip() not in ("0", "no", "off", "")


# ---- this process's side ---------------------------------------------------------------------

class ForkedProcess:
    """What ProcessWorker needs of a subprocess.Popen (pid, wait, kill) for a worker the server
    forks: the server is its parent, so the server waits for it and says how it ended. It is
    made when the request is sent (an executor's N requests go out at once, the server forks
    while this process sets up the next worker); `pid` waits for the server's answer. A request
    the server refuses or never answers (it died meanwhile) is started afresh instead by
    `on_answer(False)`, which returns that Popen; `on_answer(True)` follows a fork."""

    def __init__(self, server, on_answer):
        self.returncode = None
        self._pid = None
        self._server = server
        self._on_answer = on_answer
        self._fallback = None  # the Popen of a worker started afresh instead
        self._answered = threading.Event()
        self._ended = threading.Event()

    @property
    def pid(self):
        self._answered.wait()
        return self._fallback.pid if self._fallback is not None else self._pid

    def _forked(self, pid):
        self._pid = pid
        self._on_answer(True)
        self._answered.set()

    def _not_forked(self):
        try:
            self._fallback = self._on_answer(False)
        except Exception:  # noqa: BLE001 - not started either: its sockets close unanswered,
            self._exited(None)  # and the executor reports the worker as one that died
        finally:
            self._answered.set()

    def _exited(self, code):
        self.returncode = code
        self._ended.set()

    def wait(self):
        """The Popen-style return code (-N: signal N), or None when the server ended first."""
        self._answered.wait()
        if self._fallback is not None:
            return self._fallback.wait()
        self._ended.wait()
        return self.returncode

    def kill(self):
        pid = self.pid
        if self._fallback is not None:
            self._fallback.kill()
        elif pid is not None:
            self._server.kill(pid)


class ForkServer:
    def __init__(self, executable):
        import pickle
        import socket
        import subprocess

        self._pickle = pickle
        self._socket = socket
        self.owner = os.getpid()  # a forked copy of this object is not this process's server
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # Its own output goes nowhere: a worker it forks has the executor's pipes as its
            # stdout/stderr, and the server itself has nothing to say to the script's reader.
            self.process = subprocess.Popen([executable, "run", "-c", _SERVER_MAIN.format(theirs.fileno())],
                                            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.sock.settimeout(1.0)  # until it is up (see _read)
        self.ready = threading.Event()
        self.started = time.monotonic()
        self.alive = True
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._next_request = 0
        self._pending = {}  # request id -> ForkedProcess, until the server answers
        self._forked = {}  # pid -> ForkedProcess, until it ends
        self._reader = threading.Thread(target=self._read, name="pyhost-executor-forkserver", daemon=True)
        self._reader._pyhost_internal = True
        self._reader.start()

    def usable(self):
        return self.alive and os.getpid() == self.owner

    def fork(self, fds, env, cwd, on_answer):
        """Asks for a worker serving over fds (task socket, rpc socket, progress memfd, stdout,
        stderr) and returns its ForkedProcess at once; OSError when the request cannot go."""
        process = ForkedProcess(self, on_answer)
        with self._state_lock:
            if not self.alive:
                raise OSError("the fork server has ended")
            request = self._next_request
            self._next_request += 1
            self._pending[request] = process
        message = self._pickle.dumps(("fork", request, env, cwd))
        try:
            if len(message) > _MAX_MESSAGE:
                raise OSError("the environment is too large for the fork server")
            with self._send_lock:
                self._socket.send_fds(self.sock, [message], list(fds))
        except OSError:
            with self._state_lock:
                unanswered = self._pending.pop(request, None)
            if unanswered is None:
                return process  # the server ended meanwhile: the reader started it afresh
            raise
        return process

    def kill(self, pid, signal_number=9):
        try:
            with self._send_lock:
                self.sock.send(self._pickle.dumps(("kill", pid, signal_number)))
        except OSError:
            pass  # the server is gone, and with it the way to reach its children by pid

    def _read(self):
        loads = self._pickle.loads
        while True:
            try:
                data = self.sock.recv(1 << 16)  # its replies are a few dozen bytes
            except TimeoutError:
                # Not up yet. One that never comes up would hold the workers asked of it for
                # ever: past _START_TIMEOUT_S it is killed, and they start afresh.
                if time.monotonic() - self.started > _START_TIMEOUT_S:
                    self.process.kill()
                continue
            except OSError:
                data = b""
            if not data:
                break
            message = loads(data)
            kind = message[0]
            if kind == "ready":
                self.ready.set()
                self.sock.settimeout(None)
            elif kind == "forked" or kind == "failed":
                with self._state_lock:
                    process = self._pending.pop(message[1], None)
                    if process is not None and kind == "forked":
                        # Registered here, before any "exited" for it can be read.
                        self._forked[message[2]] = process
                if process is not None:
                    if kind == "forked":
                        process._forked(message[2])
                    else:
                        process._not_forked()
            elif kind == "exited":
                with self._state_lock:
                    process = self._forked.pop(message[1], None)
                if process is not None:
                    process._exited(message[2])
        # The server ended (or this process is going away): nothing it started can be reported
        # on any more, and nothing new goes to it.
        with self._state_lock:
            self.alive = False
            pending, self._pending = self._pending, {}
            forked, self._forked = self._forked, {}
        for process in pending.values():
            process._not_forked()
        for process in forked.values():
            process._exited(None)
        try:
            self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001 - only reaping; it ends with its socket
            pass


_server = None
_starts = 0
_lock = threading.Lock()


def _forget_in_child():
    # A process forked from this one (by the script itself) must not keep this process's end of
    # the server's socket open, or the server would not see this process end; it starts its own.
    global _server, _starts
    server, _server, _starts = _server, None, 0
    if server is not None:
        try:
            server.sock.close()
        except OSError:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def current_server():
    """This process's fork server, up or still starting (requests wait in its socket until it
    reads them: a worker asked of a starting server is further along than one started afresh
    at that moment), else None."""
    server = _server
    return server if server is not None and server.usable() else None


def _possible():
    # The server's reply reader is a daemon thread (it must not hold up the interpreter's end):
    # an isolated sub-interpreter has none, so its executors start their workers afresh.
    allowed = getattr(threading, "_daemon_threads_allowed", None)
    return hasattr(os, "pidfd_open") and (allowed is None or allowed())


def start_in_background(executable):
    """Starts this process's fork server unless it runs, is starting, or is not wanted."""
    global _server, _starts
    if not enabled() or not _possible():
        return
    with _lock:
        server = _server
        if server is not None and os.getpid() == server.owner and (
                server.alive or not server.ready.is_set()):
            return  # running or starting; or it never came up, and another would not either
        if _starts >= _MAX_STARTS:
            return
        _starts += 1
        try:
            _server = ForkServer(executable)
        except Exception:  # noqa: BLE001 - without a server, workers start afresh as before
            _server = None


# ---- the server ------------------------------------------------------------------------------

def serve(control_fd):
    """The fork server's loop (`pyhost run -c`, single-threaded): forks a worker per request,
    waits for its children, and ends when the control socket closes."""
    import gc
    import mmap  # noqa: F401 - a worker imports it (and protocol, worker) first thing
    import pickle
    import select
    import signal
    import socket

    from . import protocol, worker  # noqa: F401

    # What is here now stays: the children's collections need not walk (and copy) its pages.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the executor to handle
    sock = socket.socket(fileno=control_fd)

    def send(message):
        try:
            sock.send(pickle.dumps(message))
        except OSError:
            os._exit(0)  # the executor's process is gone

    os.pidfd_open(os.getpid())  # no pidfd here: fail now, and the executor spawns its workers
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    children = {}  # pidfd -> pid
    send(("ready",))
    while True:
        for fd, _ in poller.poll():
            if fd in children:
                pid = children.pop(fd)
                poller.unregister(fd)
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                send(("exited", pid, os.waitstatus_to_exitcode(status)))
                continue
            try:
                data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 8)
            except OSError:
                data, fds = b"", []
            if not data:
                os._exit(0)  # the executor's process is gone: its workers go on without us
            request = pickle.loads(data)
            if request[0] == "kill":
                if request[1] in children.values():  # not yet reaped: the pid is still ours
                    try:
                        os.kill(request[1], request[2])
                    except OSError:
                        pass
                continue
            _, request_id, env, cwd = request
            try:
                pid = _fork_worker(sock, children, fds, env, cwd)
                pidfd = os.pidfd_open(pid)
                children[pidfd] = pid
                poller.register(pidfd, select.POLLIN)
                reply = ("forked", request_id, pid)
            except Exception as exc:  # noqa: BLE001 - refused: the executor starts it afresh
                reply = ("failed", request_id, f"{type(exc).__name__}: {exc}")
            finally:
                for passed in fds:
                    os.close(passed)
            send(reply)


def _fork_worker(sock, children, fds, env, cwd):
    task_fd, rpc_fd, progress_fd, out_fd, err_fd = fds
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    # The child: nothing of the server's may stay open in it (a copy of the control socket
    # would hide the server's end from the executor), then it is a worker like any other.
    try:
        sock.close()
        for pidfd in children:
            os.close(pidfd)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        os.close(err_fd)
        os.environ.clear()
        os.environ.update(env)
        try:
            os.chdir(cwd)
        except OSError:
            pass  # gone since: a worker started afresh would have inherited it as it is
        from .worker import serve_process

        serve_process(task_fd, rpc_fd, progress_fd)
    except BaseException:  # noqa: BLE001 - a child must never return into the server's loop
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(70)
    os._exit(0)
