"""pyhost.Executor(mode="mpi") and pyhost.Channel across the ranks of `pyhost run --engine mpi`.

In the style of mpi4py's MPICommExecutor: no spawning, the ranks the launcher started serve.
Under `mpirun -n R pyhost run --engine mpi script.py` (no --tasks), rank 0 runs the script and
ranks 1..R-1 run serve(): each keeps local workers (sub-interpreters or processes, the executor's
`local` mode) and relays to them, unopened, the pickled call batches that rank 0's executor sends
(the workers resolve the script's functions by running it as __mp_main__, as usual).

On rank 0 each remote worker is a RankWorker: the face of workers.py's workers (send, receive,
stop, finish, running_call), so the executor's batching, map, futures and crash handling are the
ones of every mode. A worker that dies on its rank is reported with the call it was
running, and rank 0 fails that call alone and asks for a replacement.

Messages are letters (ranks.py): one thread per process reads them (rank 0: the link thread,
while remote workers exist; other ranks: serve()) and hands channel letters to ranks.py.
"""
import os
import pickle
import queue
import threading
import warnings

try:
    import _pyhost
except ImportError:  # plain python: no ranks, mode "mpi" falls back to local workers
    _pyhost = None

from . import protocol, workers
from .pickling import PickledCalls
from .ranks import (ENDED, FROM_WORKER, START, TO_WORKER, handle_channel_letter, my_rank, post,
                    report_bad_letter)

LOCAL_MODES = ("subinterpreters", "processes")
_RECEIVE_SLICE = 0.1  # how often the link thread checks whether it is still needed


def serving_ranks():
    """The ranks that serve this process's mpi executors: 1..R-1 on rank 0 of a serving run."""
    if _pyhost is None or os.environ.get("PYHOST_MPI_EXECUTOR") != "1" or my_rank() != 0:
        return []
    return list(range(1, int(os.environ.get("PYHOST_RANKS", "1"))))


# --- rank 0: remote workers ------------------------------------------------------------------

class _Link:
    """Rank 0's reader of the mailbox: runs while remote workers exist."""

    def __init__(self):
        self.lock = threading.Lock()
        self.workers = {}  # (rank, executor id, local index) -> RankWorker
        self.thread = None

    def register(self, worker):
        with self.lock:
            self.workers[worker.key] = worker
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="pyhost-executor-mpi-link")
                self.thread._pyhost_internal = True
                self.thread.start()

    def unregister(self, worker):
        with self.lock:
            if self.workers.get(worker.key) is worker:
                del self.workers[worker.key]

    def _run(self):
        while True:
            got = _pyhost.mpi_receive(_RECEIVE_SLICE)
            if got is None:
                with self.lock:
                    if not self.workers:
                        self.thread = None
                        return
                continue
            source, data = got
            if source < 0:
                with self.lock:  # the MPI run ended: no more letters
                    lost = list(self.workers.values())
                for worker in lost:
                    worker.ended("the MPI run ended", None, None)
                return
            try:
                self._handle(source, pickle.loads(data))
            except Exception:  # noqa: BLE001 - one bad letter must not stop the executors
                report_bad_letter(source)

    def _handle(self, source, letter):
        kind = letter[0]
        if kind == FROM_WORKER or kind == ENDED:
            with self.lock:
                worker = self.workers.get((source, letter[1], letter[2]))
            if worker is None:
                return
            if kind == FROM_WORKER:
                worker.inbox.put((letter[3], letter[4]))
            else:
                worker.ended(*letter[3:])
        else:
            handle_channel_letter(letter)


_link = _Link()
_executor_ids = iter(range(1, 1 << 62))


class RankWorker:
    """One worker of a serving rank, as rank 0's executor sees it."""

    def __init__(self, executor_id, rank, local_index, local_mode, setup):
        self.key = (rank, executor_id, local_index)
        self.rank = rank
        self.index = None  # set by RankWorkers
        self.pid = None  # the local worker's, once it ended
        self.label = f"{local_mode} worker {local_index} of rank {rank}"
        self.inbox = queue.SimpleQueue()
        self._end = None
        self._ended = threading.Event()
        _link.register(self)
        try:
            post(rank, (START, executor_id, local_index, local_mode, setup))
        except RuntimeError as exc:
            self.ended(f"rank {rank} cannot be reached: {exc}", None, None)

    def ended(self, why, running_call, pid):
        if self._ended.is_set():
            return
        self._end = (why, running_call)
        self.pid = pid
        self._ended.set()
        self.inbox.put(None)

    def send(self, tag, data):
        try:
            post(self.rank, (TO_WORKER, self.key[1], self.key[2], tag, data))
        except RuntimeError as exc:  # the run is ending: the worker is as good as gone
            self.ended(f"rank {self.rank} cannot be reached: {exc}", None, None)

    def receive(self):
        return self.inbox.get()

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        self._ended.wait()
        _link.unregister(self)
        return self._end[0]

    def kill(self):
        pass  # its rank stops it when rank 0's run ends

    def running_call(self):
        return self._end[1] if self._end else None


class RankWorkers:
    """The executor's worker type for mode "mpi": slot index i is local worker i mod N of serving
    rank ranks[i // N]."""

    calls = PickledCalls  # the serving rank relays the pickles to its workers unopened
    forwards_output = False  # the serving rank writes its workers' output
    loads_main_script = True

    def __init__(self, ranks, per_rank, local_mode):
        self.executor_id = next(_executor_ids)
        self.ranks = ranks
        self.per_rank = per_rank
        self.local_mode = local_mode

    def __call__(self, index, setup, output=None):
        worker = RankWorker(self.executor_id, self.ranks[index // self.per_rank],
                            index % self.per_rank, self.local_mode, setup)
        worker.index = index
        return worker


def fallback_note(local):
    warnings.warn("pyhost.Executor('mpi'): no ranks serve it here (they do on rank 0 of `mpirun -n R "
                  "pyhost run --engine mpi script.py` without --tasks, R >= 2); using "
                  f"{local} workers on this machine", RuntimeWarning, stacklevel=3)


# --- ranks 1..R-1: serving --------------------------------------------------------------------

class _Server:
    def __init__(self):
        self.lock = threading.Lock()
        self.workers = {}  # (executor id, local index) -> local worker
        self.relays = []
        self.outputs = {}  # executor id -> where its process workers' output goes

    def run(self):
        while True:
            source, data = _pyhost.mpi_receive(None)
            if source < 0:  # rank 0's script has ended
                break
            try:
                self._handle(pickle.loads(data))
            except Exception:  # noqa: BLE001 - one bad letter must not stop the server
                report_bad_letter(source)
        with self.lock:
            running = list(self.workers.values())
        for worker in running:  # calls still running have nobody to report to
            worker.kill()
            worker.stop()
        for relay in self.relays:
            relay.join()

    def _handle(self, letter):
        kind = letter[0]
        if kind == TO_WORKER:
            with self.lock:
                worker = self.workers.get((letter[1], letter[2]))
            if worker is not None:
                worker.send(letter[3], letter[4])
        elif kind == START:
            self._start(*letter[1:])
        else:
            handle_channel_letter(letter)

    def _start(self, executor_id, local_index, local_mode, setup):
        theirs = pickle.loads(setup)
        key = (executor_id, local_index)
        try:
            settings = pickle.loads(workers.setup_message(local_index, local_mode))
            # Rank 0's script, path and arguments; this rank's task and output.
            settings.update(sys_path=theirs["sys_path"], main_path=theirs["main_path"],
                            argv=theirs["argv"])
            if local_mode == "processes":
                output = self.outputs.setdefault(executor_id, workers.TaskOutput())
                worker = workers.ProcessWorker(local_index, pickle.dumps(settings), output)
            else:
                worker = workers.InterpreterWorker(local_index, pickle.dumps(settings))
        except Exception as exc:  # noqa: BLE001 - rank 0 sees a worker that could not start
            post(0, (ENDED, executor_id, local_index, f"cannot start: {exc}", None, None))
            return
        with self.lock:
            self.workers[key] = worker
        relay = threading.Thread(target=self._relay, args=(key, worker),
                                 name=f"pyhost-executor-mpi-relay-{local_index}")
        relay._pyhost_internal = True
        self.relays = [r for r in self.relays if r.is_alive()] + [relay]
        relay.start()

    def _relay(self, key, worker):
        """Results (and the goodbye) of one local worker to rank 0, then how it ended."""
        executor_id, local_index = key
        try:
            while True:
                message = worker.receive()
                if message is None:
                    break
                post(0, (FROM_WORKER, executor_id, local_index, message[0], message[1]))
            running = worker.running_call()
            ended = worker.finish()
            post(0, (ENDED, executor_id, local_index, ended, running, worker.pid))
        except RuntimeError:
            pass  # the run is over: nobody to tell
        finally:
            with self.lock:
                if self.workers.get(key) is worker:
                    del self.workers[key]


def serve():
    """Rank r > 0 of a serving run: run rank 0's executor calls until its script ends."""
    _Server().run()
