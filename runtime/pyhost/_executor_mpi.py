"""pyhost.Executor(mode="mpi") and pyhost.Channel across the ranks of `pyhost run --engine mpi`.

In the style of mpi4py's MPICommExecutor: no spawning, the ranks the launcher started serve.
Under `mpirun -n R pyhost run --engine mpi script.py` (no --tasks), rank 0 runs the script and
ranks 1..R-1 run serve(): each keeps local workers (sub-interpreters or processes, the executor's
`local` mode) and relays to them, unopened, the pickled call batches that rank 0's executor sends
(the workers resolve the script's functions by running it as __mp_main__, as usual).

On rank 0 each remote worker is a RankWorker: the face of _executor_workers' workers (send,
receive, stop, finish, running_call), so the executor's batching, map, futures and crash handling
are the ones of every mode. A worker that dies on its rank is reported with the call it was
running, and rank 0 fails that call alone and asks for a replacement.

Messages are pickled tuples ("letters") carried by the rank's communication thread
(`_pyhost.mpi_post` / `mpi_receive`, host/mpi/executor_mailbox.hpp): one thread per process reads
them (rank 0: the link thread, while remote workers exist; other ranks: serve()).

A Channel lives on the rank that made it; a worker on another rank gets a RemoteBackend, whose
operations are requests to the owner. The owner does each one on the real channel and answers
when it is done: a put to a full channel blocks its producer, whatever its rank, until there is
room (bounded flow).
"""
import os
import pickle
import queue
import sys
import threading
import warnings

try:
    import _pyhost
except ImportError:  # plain python: no ranks, mode "mpi" falls back to local workers
    _pyhost = None

from . import _executor_worker as protocol
from . import _executor_workers as workers_impl

# Letter kinds.
START, TO_WORKER, FROM_WORKER, ENDED, CHAN_REQUEST, CHAN_REPLY = range(1, 7)
LOCAL_MODES = ("subinterpreters", "processes")
_RECEIVE_SLICE = 0.1  # how often the link thread checks whether it is still needed


def my_rank():
    return int(os.environ.get("PYHOST_RANK", "0"))


def serving_ranks():
    """The ranks that serve this process's mpi executors: 1..R-1 on rank 0 of a serving run."""
    if _pyhost is None or os.environ.get("PYHOST_MPI_EXECUTOR") != "1" or my_rank() != 0:
        return []
    return list(range(1, int(os.environ.get("PYHOST_RANKS", "1"))))


def _post(dest, letter):
    _pyhost.mpi_post(dest, pickle.dumps(letter, pickle.HIGHEST_PROTOCOL))


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
                _report_bad_letter(source)

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


def _report_bad_letter(source):
    import traceback

    print(f"pyhost: rank {my_rank()}: a pyhost.Executor message from rank {source} could not be "
          f"handled:\n{traceback.format_exc()}", file=sys.stderr, end="")


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
            _post(rank, (START, executor_id, local_index, local_mode, setup))
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
            _post(self.rank, (TO_WORKER, self.key[1], self.key[2], tag, data))
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
                _report_bad_letter(source)
        with self.lock:
            workers = list(self.workers.values())
        for worker in workers:  # calls still running have nobody to report to
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
            settings = pickle.loads(workers_impl.setup_message(local_index, local_mode))
            # Rank 0's script, path and arguments; this rank's task and output.
            settings.update(sys_path=theirs["sys_path"], main_path=theirs["main_path"],
                            argv=theirs["argv"])
            if local_mode == "processes":
                output = self.outputs.setdefault(executor_id, workers_impl.TaskOutput())
                worker = workers_impl.ProcessWorker(local_index, pickle.dumps(settings), output)
            else:
                worker = workers_impl.InterpreterWorker(local_index, pickle.dumps(settings))
        except Exception as exc:  # noqa: BLE001 - rank 0 sees a worker that could not start
            _post(0, (ENDED, executor_id, local_index, f"cannot start: {exc}", None, None))
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
                _post(0, (FROM_WORKER, executor_id, local_index, message[0], message[1]))
            running = worker.running_call()
            ended = worker.finish()
            _post(0, (ENDED, executor_id, local_index, ended, running, worker.pid))
        except RuntimeError:
            pass  # the run is over: nobody to tell
        finally:
            with self.lock:
                if self.workers.get(key) is worker:
                    del self.workers[key]


def serve():
    """Rank r > 0 of a serving run: run rank 0's executor calls until its script ends."""
    _Server().run()


# --- channels across ranks ---------------------------------------------------------------------

def remote_op(owner_rank, op, channel_id, tag=0, data=b"", timeout=None):
    """One operation on a channel of another rank; its result once the owner has done it."""
    reply = _pyhost.chan_new(0)
    try:
        _post(owner_rank, (CHAN_REQUEST, my_rank(), reply, channel_id, op, tag, bytes(data), timeout))
        status, _, payload = _pyhost.chan_get(reply, None)
    finally:
        _pyhost.chan_release(reply)
    if status != 0:
        from .channel import ChannelClosed

        raise ChannelClosed("the MPI run ended before the channel's rank answered")
    ok, value = pickle.loads(payload)
    if not ok:
        raise value
    return value


class RemoteBackend:
    """A channel of another rank, seen from this one."""

    def __init__(self, owner_rank, channel_id, owner_pid):
        self.rank = owner_rank
        self.id = channel_id
        self._owner = owner_pid

    def put(self, tag, data, timeout):
        from .channel import RPC_PUT

        return remote_op(self.rank, RPC_PUT, self.id, tag, data, timeout)

    def get(self, timeout):
        from .channel import RPC_GET

        return remote_op(self.rank, RPC_GET, self.id, timeout=timeout)

    def close(self):
        from .channel import RPC_CLOSE

        return remote_op(self.rank, RPC_CLOSE, self.id)

    def state(self):
        from .channel import RPC_STATE

        return remote_op(self.rank, RPC_STATE, self.id)

    def reference(self):
        return self.id, self._owner, self.rank


def handle_channel_letter(letter):
    """The reader thread's part of channel traffic: answers reach their waiting requester; a
    request is done at once when it can be, else on a thread of its own until it can."""
    kind = letter[0]
    if kind == CHAN_REPLY:
        try:
            _pyhost.chan_put(letter[1], 0, letter[2], None)
        except ValueError:
            pass  # the requester is gone
        return
    if kind != CHAN_REQUEST:
        return
    from . import channel

    _, reply_rank, reply, channel_id, op, tag, data, timeout = letter

    def answer(outcome):
        try:
            _post(reply_rank, (CHAN_REPLY, reply, pickle.dumps(outcome)))
        except RuntimeError:
            pass  # the run is over

    def attempt(wait):
        try:
            return True, (True, channel._serve_one(op, channel_id, tag, data, wait, lambda: True))
        except Exception as exc:  # noqa: BLE001 - the requester raises it
            return True, (False, exc if channel._picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))

    if op in (channel.RPC_PUT, channel.RPC_GET) and timeout != 0:
        done, outcome = attempt(0.0)
        ok, value = outcome
        status = value if op == channel.RPC_PUT else (value[0] if ok else None)
        if ok and status == channel._TIMEOUT:  # full (put) or empty (get): wait on a thread
            waiter = threading.Thread(target=lambda: answer(attempt(timeout)[1]),
                                      name="pyhost-channel-remote-op")
            waiter._pyhost_internal = True
            waiter.start()
            return
        answer(outcome)
        return
    answer(attempt(timeout if timeout is not None else None)[1])
