"""`faulthandler` in pyhost's own-GIL sub-interpreters, where CPython refuses to load its own
("module faulthandler does not support loading in subinterpreters"), so that code which merely
turns it on (pytest does, at start-up) runs there. pyhost._host loads this file as the module
`faulthandler` in its sub-interpreters only; elsewhere `import faulthandler` is CPython's.

- enable(), disable(), is_enabled(): the process's fatal-error handler (SIGSEGV, SIGFPE, SIGABRT,
  SIGBUS, SIGILL), which belongs to the main interpreter, through _pyhost.faulthandler_in_main
  (see _faulthandler_main.py). Each interpreter sees its own state; the handler is on while any
  interpreter has it on, and writes to the file of the latest enable(). What it prints on a crash
  is CPython's.
- register(), unregister(): the same way, a process-wide handler per signal (the last
  register() of a signal wins; an interpreter unregisters only its own).
- dump_traceback(): written here, in Python, for this interpreter's threads, in faulthandler's
  format.
- dump_traceback_later(), cancel_dump_traceback_later(): a watchdog thread of this interpreter
  (CPython's would dump the main interpreter's threads). It runs Python code, so it fires only
  when this interpreter's GIL is free (not while C code holds it).
- At the end of each task, as at a python process's exit, the watchdog is cancelled and the
  task's handler and signals are given up.
- Not provided: dump_c_stack() (3.14) and the crash helpers (_sigsegv, ...).
"""
import os
import sys
import threading

import _pyhost

_pyhost_standin = True
_MAX_FRAMES = 100  # CPython's limits
_MAX_THREADS = 100


def _fileno(file):
    """The descriptor of `file` (None: sys.stderr), as CPython's faulthandler takes it."""
    if file is None:
        file = sys.stderr
        if file is None:
            raise RuntimeError("sys.stderr is None")
    if isinstance(file, int):
        if file < 0:
            raise ValueError("file is not a valid file descriptor")
        return file
    fd = file.fileno()
    if not isinstance(fd, int) or fd < 0:
        raise ValueError("file is not a valid file descriptor")
    try:
        file.flush()
    except Exception:
        pass
    return fd


def enable(file=None, all_threads=True):
    _pyhost.faulthandler_in_main("enable", _fileno(file), bool(all_threads))


def disable():
    return _pyhost.faulthandler_in_main("disable")


def is_enabled():
    return _pyhost.faulthandler_in_main("is_enabled")


def register(signum, file=None, all_threads=True, chain=False):
    _pyhost.faulthandler_in_main("register", int(signum), _fileno(file), bool(all_threads),
                                 bool(chain))


def unregister(signum):
    return _pyhost.faulthandler_in_main("unregister", int(signum))


def _write(fd, text):
    data = text.encode("utf-8", "backslashreplace")
    while data:
        data = data[os.write(fd, data):]


def _stack(frame):
    lines = []
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back  # this module's own frames: not the caller's stack
    while frame is not None:
        if len(lines) == _MAX_FRAMES:
            lines.append("  ...\n")
            break
        lines.append(f'  File "{frame.f_code.co_filename}", line {frame.f_lineno or "???"} in '
                     f"{frame.f_code.co_name}\n")
        frame = frame.f_back
    return "".join(lines)


def _dump(fd, all_threads, watchdog=False, header=""):
    """faulthandler's dump of this interpreter's threads, in one write; the watchdog leaves
    itself out, as CPython's (a C thread) does."""
    current = threading.get_ident()
    if not all_threads:
        _write(fd, header + "Stack (most recent call first):\n" + _stack(sys._getframe()))
        return
    # Not sys._current_frames(): in a sub-interpreter it corrupts the heap (see _pyhost).
    frames = _pyhost.interpreter_frames()
    others = [ident for ident in frames if ident != current]
    parts = []
    for ident in others[:_MAX_THREADS - 1]:
        parts.append(f"Thread 0x{ident:016x} (most recent call first):\n" + _stack(frames[ident]))
    if len(others) >= _MAX_THREADS:
        parts.append("...\n")
    if not watchdog:
        parts.append(f"Current thread 0x{current:016x} (most recent call first):\n"
                     + _stack(sys._getframe()))
    _write(fd, header + "\n".join(parts))


def dump_traceback(file=None, all_threads=True):
    _dump(_fileno(file), all_threads)


class _Watchdog:
    def __init__(self, timeout, repeat, fd, exit):
        self.timeout, self.repeat, self.fd, self.exit = timeout, repeat, fd, exit
        self.cancelled = threading.Event()
        # Not a daemon (sub-interpreters allow none); pyhost does not wait for it at a task's end
        # (_pyhost_internal): the end of the task cancels it.
        self.thread = threading.Thread(target=self._run, name="faulthandler-watchdog")
        self.thread._pyhost_internal = True
        self.thread.start()

    def _run(self):
        while not self.cancelled.wait(self.timeout):
            seconds, fraction = divmod(self.timeout, 1)
            minutes, seconds = divmod(int(seconds), 60)
            hours, minutes = divmod(minutes, 60)
            micro = round(fraction * 1e6)
            stamp = f"{hours}:{minutes:02d}:{seconds:02d}" + (f".{micro:06d}" if micro else "")
            try:
                _dump(self.fd, True, watchdog=True, header=f"Timeout ({stamp})!\n")
            except OSError:
                pass
            if self.exit:
                os._exit(1)
            if not self.repeat:
                return

    def cancel(self):
        self.cancelled.set()
        if self.thread is not threading.current_thread():
            self.thread.join()


_watchdog = None
_watchdog_lock = threading.Lock()


def dump_traceback_later(timeout, repeat=False, file=None, exit=False):
    global _watchdog
    timeout = float(timeout)
    if timeout <= 0:
        raise ValueError("timeout must be greater than 0")
    fd = _fileno(file)
    with _watchdog_lock:
        if _watchdog is not None:
            _watchdog.cancel()
        _watchdog = _Watchdog(timeout, bool(repeat), fd, bool(exit))


def cancel_dump_traceback_later():
    global _watchdog
    with _watchdog_lock:
        if _watchdog is not None:
            _watchdog.cancel()
            _watchdog = None


def _pyhost_task_done():
    """Called by pyhost._host when a task of this interpreter ends, and before it is ended."""
    cancel_dump_traceback_later()
    _pyhost.faulthandler_in_main("forget")
