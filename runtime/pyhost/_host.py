"""What the C++ host calls in each interpreter it runs tasks in. Not an API for scripts.

Each task is run the way `python` runs a program: a fresh __main__ namespace, sys.argv and
sys.path[0] like python's, SystemExit / uncaught exceptions turned into an exit code, and, where
the interpreter outlives the task, the task's non-daemon threads joined and its atexit
handlers run at its end.
"""
import sys
from _thread import allocate_lock, get_ident

# The task each OS thread works for. A plain dict keyed by thread id (not a ContextVar): it is
# what threads started by a task inherit, and it is simple enough to be right in every version.
_tasks_by_thread = {}
_interp_task = None  # the task running in this interpreter (modes with one task per interpreter)
settings = {"mode": "serial", "workers": 1, "tasks": 1}
_shared_interpreter = False  # threads mode: several tasks at once in this interpreter
_per_task_cleanup = False  # the interpreter runs further tasks after this one
_path0 = None
_WATCH_CLOSED, _WATCH_DEADLINE, _WATCH_INTERRUPT, _WATCH_TERMINATE = 1, 2, 3, 4
_configure_lock = allocate_lock()


class _FaulthandlerFinder:
    """Loads pyhost/_faulthandler.py as `faulthandler`: CPython refuses its own in own-GIL
    sub-interpreters, and pytest (among others) imports it to turn it on. Installed in pyhost's
    sub-interpreters only."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname != "faulthandler":
            return None
        import importlib.util
        import os

        standin = os.path.join(os.path.dirname(__file__), "_faulthandler.py")
        return importlib.util.spec_from_file_location("faulthandler", standin)


def _install_faulthandler_standin():
    try:
        import _pyhost
    except ImportError:  # not run by the host (pydoc, tools that import every module)
        return
    in_subinterpreter = getattr(_pyhost, "in_subinterpreter", None)
    if in_subinterpreter is None or not in_subinterpreter():
        return
    if not any(finder is _FaulthandlerFinder for finder in sys.meta_path):
        sys.meta_path.insert(0, _FaulthandlerFinder)


def _faulthandler_task_done():
    # As at a python process's exit: the watchdog stops, the task's handler is given up.
    standin = sys.modules.get("faulthandler")
    if getattr(standin, "_pyhost_standin", False):
        standin._pyhost_task_done()


_install_faulthandler_standin()


class TaskContext:
    __slots__ = ("task_id", "worker_id")

    def __init__(self, task_id, worker_id):
        self.task_id = task_id
        self.worker_id = worker_id


def current_task():
    task = _tasks_by_thread.get(get_ident())
    return task if task is not None else _interp_task


def configure(mode, workers, tasks, capture, passthrough, shared_interpreter, per_task_cleanup):
    """Called by every worker before its first task (in threads mode, several at once)."""
    global _shared_interpreter, _per_task_cleanup
    with _configure_lock:
        settings.update(mode=mode, workers=workers, tasks=tasks)
        _shared_interpreter = shared_interpreter
        _per_task_cleanup = per_task_cleanup
        # Idempotent on purpose: replacing sys.stdout while another thread is inside print()
        # frees the stream under print's borrowed reference (a crash seen on 3.13).
        if capture:
            from . import _streams

            _streams.install(current_task, passthrough)
        elif "pyhost._streams" in sys.modules:
            sys.modules["pyhost._streams"].uninstall()
        if shared_interpreter:
            _inherit_task_in_threads()


def _inherit_task_in_threads():
    """Threads started by a task belong to it (output, joining), as in 3.14's thread_inherit_context."""
    import threading

    if getattr(threading.Thread.start, "_pyhost_wrapped", False):
        return
    original_start = threading.Thread.start

    def start(self):
        task = _tasks_by_thread.get(get_ident())
        self._pyhost_task = task
        if task is not None:
            run = self.run

            def run_for_task():
                _tasks_by_thread[get_ident()] = task
                try:
                    run()
                finally:
                    _tasks_by_thread.pop(get_ident(), None)

            self.run = run_for_task
        original_start(self)

    start._pyhost_wrapped = True
    threading.Thread.start = start


def _act_as_main_thread():
    """Threads a task starts are non-daemon by default, as from python's main thread.

    A host thread that calls into the main interpreter appears as a daemonic _DummyThread, and
    Thread() copies the daemon flag of the thread that creates it.
    """
    import threading

    current = threading.current_thread()
    if current.daemon and isinstance(current, threading._DummyThread):
        current._daemonic = False


def _set_path0(entry):
    global _path0
    if _path0 is None:
        sys.path.insert(0, entry)
        _path0 = entry
    elif sys.path and sys.path[0] != entry and _path0 != entry:
        sys.path[0] = entry
        _path0 = entry


def _fresh_main():
    main = type(sys)("__main__")
    main.__dict__["__builtins__"] = sys.modules["builtins"]
    sys.modules["__main__"] = main
    return main


def _run_code(code, main):
    exec(code, main.__dict__)


def _execute(kind, target, args):
    if kind == "script":
        code, directory = _compiled_script(target)
        sys.argv = [target, *args]
        _set_path0(directory)
        main = _fresh_main()
        main.__file__ = target
        main.__cached__ = None
        _run_code(code, main)
    elif kind == "code":
        code = _compiled_code(target)
        sys.argv = ["-c", *args]
        _set_path0("")
        main = _fresh_main()
        _run_code(code, main)
    elif kind == "module":
        import os
        import runpy

        sys.argv = ["-m", *args]
        _set_path0(os.getcwd())
        _fresh_main()
        runpy._run_module_as_main(target, alter_argv=True)
    else:
        raise ValueError(f"unknown task kind {kind!r}")


def _exit_code_of(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _report(exc):
    # Drop this module's own frames so that tracebacks look like python's.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    exc.__traceback__ = tb
    # stderr may be gone (its reader went away: BrokenPipeError): then, as python, say nothing.
    try:
        try:
            sys.excepthook(type(exc), exc, tb)
        except Exception:
            import traceback

            traceback.print_exception(type(exc), exc, tb)
        # Last, under the package's own error: which module an own-GIL sub-interpreter refused,
        # the package the script imported, and the modes that can run it.
        from . import _import_hint

        line = _import_hint.hint(exc, tb)
        if line:
            sys.stderr.write(line + "\n")
    except Exception:
        pass


def _flush_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def _live_threads(threading):
    """threading.enumerate() without its lock: that is an RLock every worker of a threads-mode
    run shares, and taken twice per task it made the workers convoy (the one released wakes the
    other, which then needs the GIL: a GIL hand-off per task, 8 -> 20-26 us per trivial task).
    Copying the two dicts is atomic under the GIL (and per object without one)."""
    active, limbo = getattr(threading, "_active", None), getattr(threading, "_limbo", None)
    if type(active) is not dict or type(limbo) is not dict:
        return threading.enumerate()
    return [*active.copy().values(), *limbo.copy().values()]


def _threads_before():
    threading = sys.modules.get("threading")
    return frozenset(_live_threads(threading)) if threading is not None else frozenset()


def _left_running(before, task):
    """Non-daemon threads the task started that are still alive (after a timeout cut the join)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return False
    skip = {threading.current_thread(), threading.main_thread()}
    for thread in _live_threads(threading):
        if thread in skip or thread in before or thread.daemon or getattr(thread, "_pyhost_internal", False):
            continue
        if isinstance(thread, threading._DummyThread):
            continue
        if _shared_interpreter and getattr(thread, "_pyhost_task", None) is not task:
            continue
        if thread.is_alive():
            return True
    return False


def _finish_threads(before, task):
    """Wait for the task's non-daemon threads, as python does at exit."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    if not _shared_interpreter:
        # Run threading's exit hooks (they shut down concurrent.futures pools), then undo the
        # "interpreter is shutting down" flags they set: this interpreter runs further tasks.
        hooks = getattr(threading, "_threading_atexits", None)
        if hooks:
            calls = list(hooks)
            hooks.clear()
            for call in reversed(calls):
                call()
        for module_name, flag in (("concurrent.futures.thread", "_shutdown"),
                                  ("concurrent.futures.process", "_global_shutdown")):
            module = sys.modules.get(module_name)
            if module is not None and hasattr(module, flag):
                setattr(module, flag, False)
    # Threads this task did not start: the caller, the OS main thread (which is what a
    # sub-interpreter's main_thread() is) and host threads that merely called into Python.
    skip = {threading.current_thread(), threading.main_thread()}
    for thread in _live_threads(threading):
        if thread in skip or thread in before or thread.daemon:
            continue
        if isinstance(thread, threading._DummyThread) or getattr(thread, "_pyhost_internal", False):
            continue
        if _shared_interpreter:
            if getattr(thread, "_pyhost_task", None) is not task:
                continue
            target = getattr(thread, "_target", None)
            if getattr(target, "__module__", "").startswith("concurrent.futures"):
                continue  # an idle pool worker of an executor never shut down
        # Short joins, so that a timeout or Ctrl-C (asynchronous exceptions) can stop the wait.
        while thread.is_alive():
            thread.join(0.05)


def _run_atexit():
    import atexit

    atexit._run_exitfuncs()
    atexit._clear()


def _timeout_error(timeout):
    # Asynchronous exceptions are raised from their class: this one explains itself.
    return type("TimeoutError", (TimeoutError,), {
        "__module__": "builtins",
        "__str__": lambda self: f"the task ran longer than its {timeout:g} s timeout (pyhost --timeout)",
    })


class _Watcher:
    """The thread of this interpreter that stops the tasks of one worker thread at their deadline
    or on a host stop. Started at the worker's first task and reused for every later one: a task
    only arms it (no thread start, no wake-up unless it has a deadline)."""

    def __init__(self):
        import _pyhost
        import threading

        self._pyhost = _pyhost
        self.handle = _pyhost.watcher_new()
        self.timeout = 0.0
        self.thread = threading.Thread(target=self._watch, name="pyhost-watch")
        self.thread._pyhost_internal = True
        self.thread.start()

    def _watch(self):
        _pyhost = self._pyhost
        _pyhost.block_signals()  # Ctrl-C belongs to the task's thread
        while True:
            reason, generation = _pyhost.watcher_wait(self.handle)
            if reason == _WATCH_CLOSED:
                return
            exception = _timeout_error(self.timeout) if reason == _WATCH_DEADLINE else KeyboardInterrupt
            _pyhost.watcher_fire(self.handle, generation, reason, exception)

    def arm(self, timeout):
        self.timeout = timeout
        self._pyhost.watcher_arm(self.handle, get_ident(), timeout)

    def disarm(self):
        """The task ended; returns why it was stopped (0 if it was not)."""
        return self._pyhost.watcher_disarm(self.handle)

    def close(self):
        self._pyhost.watcher_close(self.handle)
        self.thread.join()


_watchers = {}  # worker thread id -> its _Watcher


def _watcher():
    watcher = _watchers.get(get_ident())
    if watcher is None:
        watcher = _watchers[get_ident()] = _Watcher()
    return watcher


def worker_done():
    """The calling worker thread runs no more tasks here: its watcher thread ends."""
    watcher = _watchers.pop(get_ident(), None)
    if watcher is not None:
        watcher.close()


# Compiled tasks, by what they run: every task of a run runs the same script or code, and
# compiling it again for each (and resolving the script's directory) is most of a short task.
_compiled = {}


def _compiled_script(target):
    entry = _compiled.get(("script", target))
    if entry is None:
        import os

        with open(target, "rb") as source_file:
            source = source_file.read()
        entry = (compile(source, target, "exec"), os.path.dirname(os.path.realpath(target)))
        _compiled[("script", target)] = entry
    return entry


def _compiled_code(target):
    code = _compiled.get(("code", target))
    if code is None:
        code = _compiled[("code", target)] = compile(target, "<string>", "exec")
    return code


def run_task(kind, target, args, task_id, worker_id, timeout=0.0):
    """Runs one task; returns (exit code, stop reason, tainted). The exit code is 0 ok,
    SystemExit's code, 1 for an exception, 130 for KeyboardInterrupt; the reason is 0, or 2/3/4
    when the task was stopped by its timeout / an interrupt / a termination of the host; tainted
    says the task left threads running that the interpreter cannot get rid of."""
    global _interp_task
    task = TaskContext(task_id, worker_id)
    _tasks_by_thread[get_ident()] = task
    if _per_task_cleanup:
        _act_as_main_thread()  # tasks may run on a host thread: its threads must be joined
    if not _shared_interpreter:
        _interp_task = task
    before = _threads_before() if _per_task_cleanup else None
    # Plain python (one serial task) keeps python's own Ctrl-C handling; it needs a watcher only
    # for a timeout.
    watch = _watcher() if (timeout or _per_task_cleanup) else None
    if watch is not None:
        watch.arm(float(timeout or 0))
    reason = 0
    try:
        try:
            _execute(kind, target, args)
            code = 0
        except SystemExit as exc:
            code = _exit_code_of(exc)
        except KeyboardInterrupt as exc:
            _report(exc)
            code = 130
        except BaseException as exc:  # noqa: BLE001 - every failure of a script is reported
            _report(exc)
            code = 1
        if _per_task_cleanup:
            try:
                _finish_threads(before, task)
                if not _shared_interpreter:
                    _run_atexit()
            except BaseException as exc:  # noqa: BLE001
                _report(exc)
                code = code or 1
        try:
            _faulthandler_task_done()
        except BaseException as exc:  # noqa: BLE001
            _report(exc)
            code = code or 1
        if watch is not None:
            reason = watch.disarm()
            watch = None
        # A task stopped while waiting for its threads leaves them running: this interpreter can
        # neither run more tasks safely nor be ended (that would wait for them).
        tainted = bool(reason) and _per_task_cleanup and _left_running(before, task)
        _flush_streams()
        return code, reason, tainted
    finally:
        if watch is not None:  # the runner itself was interrupted
            watch.disarm()
        _tasks_by_thread.pop(get_ident(), None)
        if not _shared_interpreter:
            _interp_task = None


def shutdown_interpreter():
    """Join the interpreter's remaining non-daemon threads before it is ended (a sub-interpreter:
    Py_EndInterpreter follows), and run its atexit handlers, as Py_EndInterpreter would next."""
    for ident in list(_watchers):
        _watchers.pop(ident).close()
    _faulthandler_task_done()
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
        if sys.version_info < (3, 13):
            _make_second_shutdown_join_only(threading)
    _run_atexit()
    if threading is not None:
        _forget_dummy_thread(threading)


def _make_second_shutdown_join_only(threading):
    """Py_EndInterpreter calls threading._shutdown() again after the call above. CPython 3.12
    skips a second call only in the main interpreter (`_is_main_interpreter()`): in a
    sub-interpreter it goes on to the main thread it already stopped and fails ("Exception ignored
    ... assert tlock is not None"; 3.13 rewrote it around thread handles and is idempotent). What a
    second call still has to do is wait for threads started since, by atexit handlers: that is
    all this one does."""
    def join_remaining():
        skip = {threading.current_thread(), threading.main_thread()}
        for thread in _live_threads(threading):
            if thread not in skip and not thread.daemon and \
                    not isinstance(thread, threading._DummyThread):
                thread.join()

    threading._shutdown = join_remaining


def _forget_dummy_thread(threading):
    """Drops the _DummyThread that threading made for this host thread, while threading is whole.

    A host thread that runs a sub-interpreter is not threading's main thread (that is the process's
    main thread), so current_thread() there makes a _DummyThread, removed from threading._active by
    a __del__ kept on a thread-local. CPython 3.13 (before 3.13.3, gh-130522) frees that local
    only when Py_EndInterpreter clears the thread state, after the module dicts were cleared: the
    __del__ then prints "Exception ignored in: <function _DeleteDummyThreadOnDel.__del__ ...>
    TypeError: 'NoneType' object does not support the context manager protocol". Deleting it
    now runs that __del__ while threading still works.
    """
    local_info = getattr(threading, "_thread_local_info", None)
    if local_info is None:
        return
    try:
        del local_info._track_dummy_thread_ref
    except AttributeError:
        pass
