"""pyhost.Executor: a concurrent.futures.Executor whose workers are own-GIL sub-interpreters of
this process, crash-isolated processes, threads, or the workers of other MPI ranks (mode "mpi",
_executor_mpi.py: each remote worker has the same face as a local one).

Calls cross to workers by pickle (functions by reference; those of the main script are found by
running it in the worker under the name __mp_main__, as multiprocessing does, when a call first
needs something of it: a plain function of the script goes by value, its code, so that a call
that uses only its arguments and builtins runs without the script's imports). Calls are sent
in batches sized to the work: many short calls share one message, long calls go one by one, so
that the per-call cost stays a few microseconds without starving idle workers.
"""
import concurrent.futures
import itertools
import math
import os
import pickle
import sys
import threading
import types
import warnings
import weakref
from collections import deque
from functools import partial

from . import _executor_worker as protocol
from . import _executor_workers as workers_impl

__all__ = ["Executor", "WorkerCrashed", "RemoteError", "MODES"]

MODES = ("subinterpreters", "processes", "threads", "freethreaded", "mpi")
_QUEUED_BATCHES = 2  # per worker: one running, one waiting, so a worker never idles between
_MAX_BATCH = 256
_LONG_CALL_S = 1e-3  # calls at least this long go one per message (balance over batching)


class WorkerCrashed(RuntimeError):
    """The process worker running this call died (signal or exit); the executor replaced it."""

    def __init__(self, message, signal=None, exitcode=None, pid=None):
        super().__init__(message)
        self.signal = signal
        self.exitcode = exitcode
        self.pid = pid


class RemoteError(Exception):
    """An exception from a worker that could not be sent back as itself."""

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


def _rebuild_error(value):
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


def _main_attribute(qualname):
    """A function or class of the main script, by name (what the slow pickling path sends)."""
    obj = sys.modules["__main__"]
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class _MainByName(pickle.Pickler):
    """Pickles the main script's functions and classes by name even when sys.modules['__main__']
    is another task's module (pyhost's threads mode runs several scripts in one interpreter)."""

    def reducer_override(self, obj):
        if isinstance(obj, (types.FunctionType, type)) and "<" not in obj.__qualname__ \
                and getattr(obj, "__module__", None) in ("__main__", "__mp_main__"):
            return _main_attribute, (obj.__qualname__,)
        return NotImplemented


class _ByValue:
    """Pickles as a call of protocol.main_function: the function rebuilt from its code."""

    __slots__ = ("reduced",)

    def __init__(self, spec):
        self.reduced = (protocol.main_function, spec)  # made once: it is sent with every call

    def __reduce__(self):
        return self.reduced


_sendable_cache = {}  # main-script function -> its _ByValue, or None if it goes by reference
_NEEDS_SCRIPT_NAMESPACE = frozenset(("globals", "locals", "vars", "eval", "exec"))
_CO_OPTIMIZED = 0x1  # a function's code (class bodies look names up another way)


def _sendable(fn):
    """fn, or a _ByValue of it when it is a plain top-level function of the main script that
    behaves the same with globals loaded on demand: no closure, no attributes, no code that
    stores globals or looks at the namespace, no class body."""
    try:
        by_value = _sendable_cache[fn]
    except TypeError:  # unhashable
        return fn
    except KeyError:
        if type(fn) is not types.FunctionType or fn.__module__ != "__main__":
            return fn
        by_value = None
        try:
            by_value = _by_value_spec(fn)
        finally:
            _sendable_cache[fn] = by_value
    if by_value is None and not _main_script_file():
        # No script file for a worker to load it from (`pyhost run -c`, an interactive
        # session): said here, at every call, not as pickle's "Can't get attribute" from the
        # worker.
        raise pickle.PicklingError(
            f"{fn.__qualname__}() is defined in `-c` code (or interactively) and uses more than "
            "its arguments and the builtins, so a worker cannot rebuild it: define it in a "
            "script or module")
    return by_value or fn


def _main_script_file():
    return getattr(sys.modules.get("__main__"), "__file__", None)


def _by_value_spec(fn):
    import builtins
    import marshal
    import opcode

    main = sys.modules.get("__main__")
    if fn.__qualname__ != fn.__name__ or fn.__closure__ is not None or fn.__dict__ \
            or fn.__code__.co_freevars or getattr(fn, "__type_params__", ()) \
            or main is None or getattr(main, "__dict__", {}).get(fn.__name__) is not fn:
        return None
    writes = {opcode.opmap["STORE_GLOBAL"], opcode.opmap["DELETE_GLOBAL"]}
    names = set()
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        if not code.co_flags & _CO_OPTIMIZED or writes.intersection(code.co_code[::2]):
            return None
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    if names & _NEEDS_SCRIPT_NAMESPACE:
        return None
    script_names = main.__dict__
    if not _main_script_file() and any(n in script_names for n in names):
        return None  # `-c` code: no file to load the script's other names from
    builtin_names = tuple(sorted(n for n in names if n not in script_names and n in builtins.__dict__))
    return _ByValue((fn.__name__, marshal.dumps(fn.__code__), fn.__defaults__, fn.__kwdefaults__,
                     builtin_names))


def _dumps_call(fn, args, kwargs):
    call = (_sendable(fn), args, kwargs)
    try:
        return pickle.dumps(call, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError) as first_error:
        import io

        buffer = io.BytesIO()
        try:
            _MainByName(buffer, pickle.HIGHEST_PROTOCOL).dump((fn, args, kwargs))
            return buffer.getvalue()
        except Exception:
            name = getattr(fn, "__qualname__", repr(fn))
            raise pickle.PicklingError(
                f"cannot send the call of {name} to a worker: {first_error} (pyhost.Executor sends "
                "functions by reference: use a function defined at module level, not a lambda or "
                "a nested function, and picklable arguments)") from first_error


class _Call:
    # `keep`: the call's objects, alive until it is done, so that a Channel passed as an argument
    # (and dropped by the caller) still exists when the worker rebuilds it.
    __slots__ = ("id", "future", "payload", "keep")

    def __init__(self, call_id, future, payload, keep=None):
        self.id = call_id
        self.future = future
        self.payload = payload
        self.keep = keep


class _WorkerSlot:
    """What the executor knows of one worker: its calls in flight and batches queued."""

    __slots__ = ("worker", "in_flight", "batches", "stopping", "reader", "served")

    def __init__(self, worker):
        self.worker = worker
        self.served = 0  # batches it has returned
        self.in_flight = {}
        self.batches = 0
        self.stopping = False
        self.reader = None


class Executor(concurrent.futures.Executor):
    """Executor(mode="subinterpreters" | "processes" | "threads" | "freethreaded" | "mpi",
    workers=None, *, local="subinterpreters").

    "freethreaded": threads of a free-threaded CPython (3.13t), which run Python in parallel; it
    needs the script to run on one (`pyhost run --mode freethreaded`, or pyhost-ft).
    "mpi": the other ranks of `mpirun -n R pyhost run --engine mpi script.py` (no --tasks), each
    with `workers` workers of mode `local` ("subinterpreters" or "processes"); elsewhere, local
    workers of this machine, with a RuntimeWarning (_executor_mpi.py)."""

    def __init__(self, mode="subinterpreters", workers=None, *, local="subinterpreters", sandbox=None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        if workers is None:
            workers = os.cpu_count() or 1
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be a positive integer, not {workers!r}")
        if protocol.loading_main:
            raise RuntimeError(_GUARD_ERROR)
        sandbox_words = workers_impl.sandbox_words(sandbox, mode)
        self.requested_mode = mode
        ranks = None
        if mode == "mpi":
            from . import _executor_mpi

            if local not in _executor_mpi.LOCAL_MODES:
                raise ValueError(f"unknown local mode {local!r} for mode 'mpi': choose one of "
                                 f"{', '.join(_executor_mpi.LOCAL_MODES)}")
            ranks = _executor_mpi.serving_ranks()
            if ranks:
                self.mode = "mpi"
            else:
                _executor_mpi.fallback_note(local)
                self.mode = self._usable_mode(local)
        else:
            self.mode = self._usable_mode(mode)
        self.workers = workers * len(ranks) if ranks else workers
        self._lock = threading.Lock()
        self._shutdown = False
        self._ids = itertools.count()
        self._pending = deque()
        self._requeued = set()  # ids of calls given back by a dead worker
        self._broken = None  # why no worker can run (workers that die before serving anything)
        self._slots = []
        self._call_time = 0.0  # mean seconds per call, from the workers' reports
        self._threads = None
        if self.mode == "threads":
            self._threads = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="pyhost-executor")
            return
        main = sys.modules.get("__main__")
        if main is not None:
            _refuse_unguarded_creation(main)
            sys.modules["__mp_main__"] = main  # results may name classes of __mp_main__
        if ranks:
            self._worker_type = _executor_mpi.RankWorkers(ranks, workers, local)
        elif self.mode == "subinterpreters":
            self._worker_type = workers_impl.InterpreterWorker
        else:
            self._worker_type = workers_impl.ProcessWorker
            if sandbox_words:
                import functools

                self._worker_type = functools.partial(workers_impl.ProcessWorker, sandbox=sandbox_words)
        # The task that makes the executor gets its workers' output, replacements' included.
        self._output = workers_impl.TaskOutput() if self.mode == "processes" else None
        try:
            for index in range(self.workers):
                self._start_worker(index)
        except BaseException:
            self.shutdown(wait=True)
            raise
        _register_exit_hook(self)

    @staticmethod
    def _usable_mode(mode):
        if mode == "threads":
            return mode
        if mode == "freethreaded":
            is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
            if is_gil_enabled is None or is_gil_enabled():
                raise RuntimeError(
                    "pyhost.Executor('freethreaded') needs a free-threaded CPython, and this "
                    "interpreter has a GIL: run the script with `pyhost run --mode freethreaded` "
                    "(the companion pyhost-ft), or pick 'subinterpreters' or 'processes'")
            return "threads"  # no GIL: plain threads run Python in parallel
        try:
            import _pyhost  # noqa: F401 - present only when pyhost runs this interpreter
        except ImportError:
            warnings.warn(f"pyhost.Executor: not running under pyhost, so mode {mode!r} falls back "
                          "to threads (run the script with `pyhost run` for "
                          f"{mode})", RuntimeWarning, stacklevel=3)
            return "threads"
        if mode == "subinterpreters" and sys.version_info < (3, 12):
            warnings.warn("pyhost.Executor: own-GIL sub-interpreters need CPython 3.12 or newer; "
                          "using threads", RuntimeWarning, stacklevel=3)
            return "threads"
        return mode

    # --- submitting ---------------------------------------------------------------------------

    def submit(self, fn, /, *args, **kwargs):
        if self._threads is not None:
            return self._threads.submit(fn, *args, **kwargs)
        future = concurrent.futures.Future()
        try:
            payload = _dumps_call(fn, args, kwargs)
        except Exception as exc:  # noqa: BLE001 - reported through the future, as the stdlib does
            payload = None
            error = exc
        with self._lock:
            if self._broken:
                raise concurrent.futures.BrokenExecutor(self._broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if payload is None:
                future.set_exception(error)
                return future
            self._pending.append(_Call(next(self._ids), future, payload, (fn, args, kwargs)))
            # Only an idle worker is fed from here: busy ones are fed by their reader when they
            # report, with everything submitted meanwhile in one batch (fewer, larger messages).
            sends = self._plan_locked(max_batches=1) if self._idle_workers_locked() else ()
        if sends:
            self._send(sends)
        return future

    def map(self, fn, *iterables, timeout=None, chunksize=None):
        """Like Executor.map. chunksize=None picks one (about 4 chunks per worker) as
        multiprocessing.Pool.map does; results come in order, exceptions when reached."""
        if chunksize is not None and chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if self._threads is not None:
            return super().map(fn, *iterables, timeout=timeout)
        items = list(zip(*iterables))
        if chunksize is None:
            chunksize = max(1, math.ceil(len(items) / (4 * self.workers)))
        if chunksize == 1:
            return self._map_each(fn, items, timeout)
        chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
        results = super().map(partial(protocol.run_chunk, _sendable(fn)), chunks, timeout=timeout)
        return itertools.chain.from_iterable(results)

    def _map_each(self, fn, items, timeout):
        """map with one call per item, without a Future per item: the workers still get the
        calls in batches sized to the work, and results land in one shared list."""
        results = _MapResults(len(items))
        calls = []
        for index, args in enumerate(items):
            calls.append(_Call(next(self._ids), _MapItem(results, index), _dumps_call(fn, args, {}), args))
        with self._lock:
            if self._broken:
                raise concurrent.futures.BrokenExecutor(self._broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._pending.extend(calls)
            sends = self._plan_locked()
        self._send(sends)
        return results.iterate(timeout)

    # --- dispatching (the lock is held by *_locked methods) ----------------------------------

    def _idle_workers_locked(self):
        for slot in self._slots:
            if slot.batches == 0 and not slot.stopping:
                return True
        return False

    def _plan_locked(self, max_batches=_QUEUED_BATCHES):
        """Batches to send now: to each worker with room, calls from the pending queue."""
        sends = []
        live = [slot for slot in self._slots if not slot.stopping]
        if self._pending and live:
            for slot in sorted(live, key=lambda s: s.batches):
                if not self._pending:
                    break
                if slot.batches >= max_batches:
                    continue
                size = 1 if self._call_time >= _LONG_CALL_S else \
                    max(1, min(_MAX_BATCH, len(self._pending) // (_QUEUED_BATCHES * len(live))))
                batch = []
                while self._pending and len(batch) < size:
                    call = self._pending.popleft()
                    if call.id in self._requeued:  # survived a crash: already running
                        self._requeued.discard(call.id)
                        batch.append(call)
                    elif call.future.set_running_or_notify_cancel():
                        batch.append(call)
                if batch:
                    slot.batches += 1
                    for call in batch:
                        slot.in_flight[call.id] = call
                    sends.append((slot, batch))
        if self._shutdown and not self._pending:
            for slot in self._slots:
                if not slot.stopping and slot.batches == 0:
                    slot.stopping = True
                    sends.append((slot, None))
        return sends

    def _send(self, sends):
        for slot, batch in sends:
            if batch is None:
                slot.worker.stop()
            else:
                message = pickle.dumps([(call.id, call.payload) for call in batch], pickle.HIGHEST_PROTOCOL)
                slot.worker.send(protocol.TAG_CALLS, message)

    def _start_worker(self, index):
        mode = self.mode
        slot = _WorkerSlot(self._worker_type(index, workers_impl.setup_message(index, mode), self._output))
        slot.reader = threading.Thread(target=self._read_results, args=(slot,),
                                       name=f"pyhost-executor-{mode}-{index}")
        slot.reader._pyhost_internal = True
        with self._lock:
            self._slots.append(slot)
        slot.reader.start()
        return slot

    def _read_results(self, slot):
        """One per worker: sets the futures of its results and keeps it fed."""
        worker = slot.worker
        while True:
            message = worker.receive()
            if message is None or message[0] != protocol.TAG_RESULTS:
                break
            results, elapsed = pickle.loads(message[1])
            with self._lock:
                slot.batches -= 1
                slot.served += 1
                calls = [slot.in_flight.pop(call_id) for call_id, _, _ in results]
                if results:
                    per_call = elapsed / len(results)
                    self._call_time = per_call if not self._call_time else 0.8 * self._call_time + 0.2 * per_call
                sends = self._plan_locked()
            self._send(sends)
            for call, (_, ok, value) in zip(calls, results):
                if ok:
                    try:
                        value = pickle.loads(value)
                    except Exception as exc:  # noqa: BLE001
                        error = pickle.UnpicklingError(f"the result of the call cannot be rebuilt here: {exc}")
                        error.__cause__ = exc
                        call.future.set_exception(error)
                        continue
                    call.future.set_result(value)
                else:
                    call.future.set_exception(_rebuild_error(value))
            _MapResults.publish_all(calls)
        clean_stop = message is not None
        ended = worker.finish()
        if clean_stop and ended is None:
            with self._lock:
                self._slots.remove(slot)
            return
        self._worker_lost(slot, ended)

    def _worker_lost(self, slot, ended):
        """A worker died: fail the call that killed it, give its other calls (queued behind it,
        or run in its batch but never reported) to the others, and replace it."""
        how = workers_impl.describe_exit(ended) if isinstance(ended, int) else str(ended)
        signal_number = -ended if isinstance(ended, int) and ended < 0 else None
        culprit_id = slot.worker.running_call()
        # Dying before running anything is a start-up failure: replacing it would loop.
        startup_failure = culprit_id is None and not slot.served
        with self._lock:
            self._slots.remove(slot)
            lost = slot.in_flight
            slot.in_flight = {}
            culprit = lost.pop(culprit_id, None)
            failed = [culprit] if culprit is not None else list(lost.values())
            if culprit is not None:
                # Back to the front, in their order; they are already marked running.
                for call in sorted(lost.values(), key=lambda c: c.id, reverse=True):
                    self._pending.appendleft(call)
                    self._requeued.add(call.id)
            replace = not startup_failure and (not self._shutdown or bool(self._pending))
            if startup_failure and not self._slots:
                self._broken = f"pyhost.Executor: its {self.mode} workers cannot start: {how}"
                failed += list(self._pending)
                self._pending.clear()
        if replace:
            try:
                self._start_worker(slot.worker.index)
            except Exception as exc:  # noqa: BLE001
                warnings.warn(f"pyhost.Executor: cannot replace a dead worker: {exc}", RuntimeWarning)
        if startup_failure:
            for call in failed:
                if call.future.running() or call.future.set_running_or_notify_cancel():
                    call.future.set_exception(concurrent.futures.BrokenExecutor(
                        self._broken or f"pyhost.Executor: a worker failed to start: {how}"))
            _MapResults.publish_all(failed)
            failed = []
        for call in failed:
            who = getattr(slot.worker, "label", f"{self.mode} worker")
            call.future.set_exception(WorkerCrashed(
                f"the {who} (pid {slot.worker.pid}) running this call died: {how}; "
                "pyhost.Executor replaced it",
                signal=signal_number, exitcode=ended if isinstance(ended, int) else None,
                pid=slot.worker.pid))
        _MapResults.publish_all(failed)
        with self._lock:
            sends = self._plan_locked()
        self._send(sends)

    # --- shutting down -------------------------------------------------------------------------

    def shutdown(self, wait=True, *, cancel_futures=False):
        if self._threads is not None:
            self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)
            return
        with self._lock:
            self._shutdown = True
            cancelled = []
            if cancel_futures:  # calls given back by a dead worker already run: they stay
                cancelled = [call for call in self._pending if call.id not in self._requeued]
                self._pending = deque(call for call in self._pending if call.id in self._requeued)
            sends = self._plan_locked()
        for call in cancelled:
            call.future.cancel()
        self._send(sends)
        if wait:
            while True:
                with self._lock:
                    readers = [slot.reader for slot in self._slots]
                if not readers:
                    break
                for reader in readers:
                    if reader is not threading.current_thread():
                        reader.join()
                if threading.current_thread() in readers:
                    break

    def __repr__(self):
        return f"<pyhost.Executor mode={self.mode} workers={self.workers}>"


class _MapResults:
    """The results of one map(chunksize=1), filled in by the readers, read in order."""

    def __init__(self, count):
        self.outcomes = [None] * count  # (ok, value) once known
        self.cond = threading.Condition(threading.Lock())
        self.abandoned = False

    @staticmethod
    def publish_all(calls):
        """Wakes the readers of every map these calls belong to (once per batch, not per call)."""
        groups = {id(c.future.results): c.future.results for c in calls if type(c.future) is _MapItem}
        for group in groups.values():
            with group.cond:
                group.cond.notify_all()

    def iterate(self, timeout):
        import time

        end_time = None if timeout is None else time.monotonic() + timeout

        def results():
            try:
                for index in range(len(self.outcomes)):
                    if self.outcomes[index] is None:
                        with self.cond:
                            while self.outcomes[index] is None:
                                remaining = None if end_time is None else end_time - time.monotonic()
                                if remaining is not None and remaining <= 0:
                                    raise TimeoutError
                                self.cond.wait(remaining)
                    ok, value = self.outcomes[index]
                    if not ok:
                        raise value
                    yield value
            finally:
                self.abandoned = True  # calls not started yet are skipped

        return results()


class _MapItem:
    """The Future-like face of one item of a map(chunksize=1), as the dispatcher uses it."""

    __slots__ = ("results", "index")

    def __init__(self, results, index):
        self.results = results
        self.index = index

    def set_running_or_notify_cancel(self):
        if self.results.abandoned:
            self.cancel()
            return False
        return True

    def running(self):
        return self.results.outcomes[self.index] is None

    def cancel(self):
        self.set_exception(concurrent.futures.CancelledError())
        _MapResults.publish_all([_Call(None, self, None)])
        return True

    def set_result(self, value):
        self.results.outcomes[self.index] = (True, value)

    def set_exception(self, exc):
        self.results.outcomes[self.index] = (False, exc)


_GUARD_ERROR = ("pyhost.Executor was created while a worker was loading the main script to find "
                "a function in it; create executors under `if __name__ == \"__main__\":`")


_guarded_lines = {}  # (script, line) -> whether the line is under `if __name__ ...`


def _refuse_unguarded_creation(main):
    """A worker may run the main script (when a call needs a name of it): an executor made by
    the script's top level outside `if __name__ == "__main__":` would be made again there. The
    worker refuses that, but only when it loads the script, which a call sent by value may never
    need: the same error is raised here, from the script's source, whatever the calls need."""
    path = getattr(main, "__file__", None)
    namespace = getattr(main, "__dict__", None)
    frame = sys._getframe(2)
    while frame is not None and not (frame.f_globals is namespace and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None or not path:
        return  # not made by the script's top level (or no script): nothing to check
    key = (path, frame.f_lineno)
    guarded = _guarded_lines.get(key)
    if guarded is None:  # parsing takes ~2 ms: once per line of the script that makes executors
        try:
            import _ast

            with open(path, "rb") as source:
                tree = compile(source.read(), path, "exec", _ast.PyCF_ONLY_AST)
        except Exception:  # noqa: BLE001 - unreadable now: the worker's own check still applies
            return
        guarded = _guarded_lines[key] = _under_name_test(tree.body, frame.f_lineno)
    if not guarded:
        raise RuntimeError(
            "pyhost.Executor was created by the main script's top level outside `if __name__ == "
            "\"__main__\":`: its workers may run the script to find its functions and would "
            "create it again; create executors under `if __name__ == \"__main__\":`")


def _under_name_test(statements, line):
    """Whether `line` lies in the body of an `if` that tests __name__, among these statements."""
    import _ast

    for node in statements:
        first = getattr(node, "lineno", None)  # match cases have none: their body does
        if first is not None and not first <= line <= (node.end_lineno or first):
            continue
        if isinstance(node, _ast.If) and any(isinstance(n, _ast.Name) and n.id == "__name__"
                                             for n in _walk(node.test)):
            return True
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if children and _under_name_test(children, line):
                return True
    return False


def _walk(node):
    import _ast

    todo = [node]
    while todo:
        node = todo.pop()
        yield node
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, _ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(v for v in value if isinstance(v, _ast.AST))


def _register_exit_hook(executor):
    """Shut the executor down before the interpreter ends (or pyhost ends the task), as the
    stdlib does for its executors: sub-interpreter workers must end before the host does."""
    reference = weakref.ref(executor)

    def shut_down():
        live = reference()
        if live is not None:
            live.shutdown(wait=True)

    try:
        threading._register_atexit(shut_down)
    except (AttributeError, RuntimeError):
        pass
