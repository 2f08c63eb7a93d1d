"""pyhost.Executor: a concurrent.futures.Executor whose workers are own-GIL sub-interpreters of
this process, crash-isolated processes, threads, or the workers of other MPI ranks.

The executor schedules; its workers (workers.py, mpi.py) all have one face, and each worker type
brings the codec of its calls (pickling.PickledCalls beyond this interpreter, workers.DirectCalls
for threads), so batching, map, futures and crash handling are the same in every mode. Calls are
sent in batches sized to the work: many short calls share one message, long calls go one by
one, so that the per-call cost stays a few microseconds without starving idle workers.
"""
import concurrent.futures
import itertools
import math
import os
import sys
import threading
import warnings
import weakref
from collections import deque

from . import channel_rpc, main_guard, mpi, protocol
from . import worker as worker_side
from .errors import WorkerCrashed
from .workers import (InterpreterWorker, ProcessWorker, TaskOutput, ThreadWorker, describe_exit,
                      plain_python_program, sandbox_words, setup_message, under_host)

__all__ = ["Executor", "MODES"]

MODES = ("subinterpreters", "processes", "threads", "freethreaded", "mpi")
_QUEUED_BATCHES = 2  # per worker: one running, one waiting, so a worker never idles between
_MAX_BATCH = 256
_LONG_CALL_S = 1e-3  # calls at least this long go one per message (balance over batching)
# The worker type of each local mode ("freethreaded" runs as "threads", see _usable_mode).
_LOCAL_WORKERS = {"subinterpreters": InterpreterWorker, "processes": ProcessWorker,
                  "threads": ThreadWorker}


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
    workers of this machine, with a RuntimeWarning (mpi.py)."""

    __module__ = "pyhost.executor"  # public there (and as pyhost.Executor)

    def __init__(self, mode="subinterpreters", workers=None, *, local="subinterpreters",
                 sandbox=None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        if workers is None:
            workers = os.cpu_count() or 1
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers must be a positive integer, not {workers!r}")
        if worker_side.loading_main:
            raise RuntimeError(main_guard.GUARD_ERROR)
        confinement = sandbox_words(sandbox, mode)  # checked before any worker starts
        self.requested_mode = mode
        ranks = None
        if mode == "mpi":
            if local not in mpi.LOCAL_MODES:
                raise ValueError(f"unknown local mode {local!r} for mode 'mpi': choose one of "
                                 f"{', '.join(mpi.LOCAL_MODES)}")
            ranks = mpi.serving_ranks()
            if ranks:
                self.mode = "mpi"
            else:
                mpi.fallback_note(local)
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
        self._worker_type = mpi.RankWorkers(ranks, workers, local) if ranks else _LOCAL_WORKERS[self.mode]
        if confinement:
            self._worker_type = ProcessWorker.confined(confinement)
        self._calls = self._worker_type.calls
        main = sys.modules.get("__main__")
        if main is not None and self._worker_type.loads_main_script:
            main_guard.refuse_unguarded_creation(main)
            sys.modules["__mp_main__"] = main  # results may name classes of __mp_main__
        # The task that makes the executor gets its workers' output, replacements' included.
        self._output = TaskOutput() if self._worker_type.forwards_output else None
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
        if not under_host():
            # Plain python: process workers are the pyhost program's (`pyhost run -c`), started
            # from here as under pyhost; sub-interpreter workers are the host's own C++ threads,
            # which the `_pyhost_subinterpreters` extension brings into this process.
            if mode == "processes":
                program, missing = plain_python_program()
                if program is not None:
                    return mode
                warnings.warn(f"pyhost.Executor: {missing}; so mode 'processes' falls back to "
                              "threads", RuntimeWarning, stacklevel=3)
                return "threads"
            if channel_rpc.native is None:  # mode "subinterpreters", the only one left
                warnings.warn(f"pyhost.Executor: not running under pyhost and "
                              f"{channel_rpc.native_missing}, so mode {mode!r} falls back to "
                              f"threads (run the script with `pyhost run` for {mode})",
                              RuntimeWarning, stacklevel=3)
                return "threads"
            if (3, 12) <= sys.version_info[:3] < (3, 12, 4):
                # gh-119213 (fixed in 3.12.4): an argument parser's cached keyword tuple made by
                # a sub-interpreter is freed by the main interpreter's allocator at exit, and
                # the process aborts ("double free or corruption") after the script finished.
                # `pyhost run` ends such a process without that step (PythonRuntime::finalize);
                # a plain python cannot be kept from it.
                version = ".".join(map(str, sys.version_info[:3]))
                warnings.warn(f"pyhost.Executor: CPython {version} can abort at exit once own-GIL "
                              "sub-interpreters ran in the process (CPython gh-119213, fixed in "
                              "3.12.4), so mode 'subinterpreters' falls back to threads in a "
                              "plain python: use CPython >= 3.12.4, or run the script with "
                              "`pyhost run`", RuntimeWarning, stacklevel=3)
                return "threads"
        if mode == "subinterpreters" and sys.version_info < (3, 12):
            warnings.warn("pyhost.Executor: own-GIL sub-interpreters need CPython 3.12 or newer; "
                          "using threads", RuntimeWarning, stacklevel=3)
            return "threads"
        return mode

    # --- submitting ---------------------------------------------------------------------------

    def submit(self, fn, /, *args, **kwargs):
        future = concurrent.futures.Future()
        try:
            payload = self._calls.encode_call(fn, args, kwargs)
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
        items = list(zip(*iterables))
        if chunksize is None:
            chunksize = max(1, math.ceil(len(items) / (4 * self.workers)))
        if chunksize == 1:
            return self._map_each(fn, items, timeout)
        chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
        results = super().map(self._calls.chunk_function(fn), chunks, timeout=timeout)
        return itertools.chain.from_iterable(results)

    def _map_each(self, fn, items, timeout):
        """map with one call per item, without a Future per item: the workers still get the
        calls in batches sized to the work, and results land in one shared list."""
        results = _MapResults(len(items))
        encode, ids = self._calls.encode_call, self._ids
        calls = [_Call(next(ids), _MapItem(results, index), encode(fn, args, {}), args)
                 for index, args in enumerate(items)]
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
                message = self._calls.encode_batch([(call.id, call.payload) for call in batch])
                slot.worker.send(protocol.TAG_CALLS, message)

    def _start_worker(self, index):
        mode = self.mode
        slot = _WorkerSlot(self._worker_type(index, setup_message(index, mode), self._output))
        slot.reader = threading.Thread(target=self._read_results, args=(slot,),
                                       name=f"pyhost-executor-{mode}-{index}")
        slot.reader._pyhost_internal = True
        with self._lock:
            self._slots.append(slot)
        slot.reader.start()
        return slot

    def _read_results(self, slot):
        """One per worker: sets the futures of its results and keeps it fed."""
        worker, codec = slot.worker, self._calls
        malformed = None
        while True:
            message = worker.receive()
            if message is None or message[0] != protocol.TAG_RESULTS:
                break
            try:
                results, elapsed = codec.decode_results(message[1])
                with self._lock:
                    pop = slot.in_flight.pop
                    calls = [pop(result[0], None) for result in results]
                    if None in calls:  # put back what was taken: the calls fail with the worker
                        for call in calls:
                            if call is not None:
                                slot.in_flight[call.id] = call
                        raise protocol.ProtocolError("results for calls the worker was not sent")
                    slot.batches -= 1
                    slot.served += 1
                    if results:
                        per_call = elapsed / len(results)
                        self._call_time = per_call if not self._call_time else 0.8 * self._call_time + 0.2 * per_call
                    sends = self._plan_locked()
            except protocol.ProtocolError as exc:
                malformed = f"it sent a malformed message ({exc}) and was killed"
                break
            self._send(sends)
            for call, (_, ok, value) in zip(calls, results):
                if ok:
                    try:
                        value = codec.decode_value(value)
                    except Exception as exc:  # noqa: BLE001 - that call fails, not the others
                        call.future.set_exception(exc)
                        continue
                    call.future.set_result(value)
                else:
                    call.future.set_exception(codec.decode_error(value))
            _MapResults.publish_all(calls)
        if malformed is not None:  # nothing it says can be trusted: it goes as if it had died
            worker.stop()  # a sub-interpreter, which cannot be killed, ends on it
            worker.kill()
            worker.finish()
            slot.served += 1  # not a start-up failure: its calls fail, a replacement starts
            self._worker_lost(slot, malformed)
            return
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
        how = describe_exit(ended) if isinstance(ended, int) else str(ended)
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
