"""pyhost.Executor's scheduling with fake workers (executor_fakes.py), the way
tests/unit/core/test_scheduler.cpp tests the C++ scheduler: submit, map, as_completed, cancel,
shutdown, a worker that dies, exceptions, result order, batching and backpressure. No worker
process or sub-interpreter is started: these run under plain python and inside pyhost."""
import concurrent.futures
import pickle
import queue
import threading

import pytest

import executor_fakes as fakes
from executor_fakes import TIMEOUT
from pyhost._executor import executor as executor_module
from pyhost._executor import protocol, worker
from pyhost.executor import Executor, RemoteError, WorkerCrashed


@pytest.fixture(autouse=True)
def _clean_gates():
    yield
    fakes.reset()


def make(monkeypatch, workers=2, **attributes):
    """An Executor whose workers are fakes of a class of their own; (executor, that class)."""
    cls = fakes.worker_class(**attributes)
    monkeypatch.setitem(executor_module._LOCAL_WORKERS, "threads", cls)
    return Executor("threads", workers), cls


def wait_until(predicate):
    done = threading.Event()
    for _ in range(TIMEOUT * 100):
        if predicate():
            return
        done.wait(0.01)
    raise AssertionError("condition never met")


# --- submit, results, exceptions ------------------------------------------------------------------

def test_submit_runs_each_call_once_and_returns_its_result(monkeypatch):
    ex, cls = make(monkeypatch, workers=3)
    with ex:
        futures = [ex.submit(fakes.square, i) for i in range(100)]
        assert [f.result(TIMEOUT) for f in futures] == [i * i for i in range(100)]
    ran = sorted(call_id for w in cls.made for batch in w.batches for call_id in batch)
    assert ran == list(range(100))
    assert len(cls.made) == 3 and all(w.stopped for w in cls.made)
    assert [w.setup["worker_index"] for w in cls.made] == [0, 1, 2]


def test_kwargs_reach_the_call(monkeypatch):
    ex, _ = make(monkeypatch)
    with ex:
        assert ex.submit(int, "ff", base=16).result(TIMEOUT) == 255


def test_an_exception_comes_back_with_its_type_and_the_worker_traceback(monkeypatch):
    ex, _ = make(monkeypatch)
    with ex:
        future = ex.submit(fakes.fail, "bad input")
        error = future.exception(TIMEOUT)
    assert type(error) is ValueError and str(error) == "bad input"
    assert "in fail" in error.remote_traceback and "ValueError: bad input" in error.remote_traceback
    assert "ValueError: bad input" in str(error.__cause__)
    with pytest.raises(ValueError, match="bad input"):
        future.result()


class Unrebuildable(Exception):
    """Pickles, but its __init__ wants two arguments: unpickling it fails."""

    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def raise_unrebuildable():
    raise Unrebuildable(1, 2)


def test_an_exception_that_cannot_be_rebuilt_becomes_a_remote_error(monkeypatch):
    ex, _ = make(monkeypatch)
    with ex:
        error = ex.submit(raise_unrebuildable).exception(TIMEOUT)
    assert type(error) is RemoteError
    assert error.type_name == f"{__name__}.Unrebuildable"
    assert str(error) == f"{__name__}.Unrebuildable: 1/2"
    assert "raise Unrebuildable(1, 2)" in error.remote_traceback


class Fragile:
    def __reduce__(self):
        return fakes.fail, ("cannot rebuild this here",)


def make_fragile():
    return Fragile()


def test_a_result_that_cannot_be_rebuilt_fails_that_call_only(monkeypatch):
    ex, _ = make(monkeypatch, workers=1)
    with ex:
        futures = [ex.submit(fakes.square, 3), ex.submit(make_fragile), ex.submit(fakes.square, 4)]
        concurrent.futures.wait(futures, TIMEOUT)
    assert futures[0].result() == 9 and futures[2].result() == 16
    error = futures[1].exception()
    assert isinstance(error, pickle.UnpicklingError)
    assert "the result of the call cannot be rebuilt here: cannot rebuild this here" in str(error)


def unpicklable_result():
    return threading.Lock()


def test_a_result_that_cannot_be_pickled_fails_that_call_only(monkeypatch):
    ex, _ = make(monkeypatch, workers=1)
    with ex:
        bad, good = ex.submit(unpicklable_result), ex.submit(fakes.square, 5)
        assert good.result(TIMEOUT) == 25
        error = bad.exception(TIMEOUT)
    assert isinstance(error, pickle.PicklingError)
    assert "the result of the call cannot be sent back" in str(error)


def test_a_call_that_cannot_be_pickled_fails_in_its_future_and_is_never_sent(monkeypatch):
    ex, cls = make(monkeypatch)
    with ex:
        future = ex.submit(lambda: 1)
        error = future.exception(TIMEOUT)
    assert isinstance(error, pickle.PicklingError)
    assert "cannot send the call of test_a_call_that_cannot_be_pickled" in str(error)
    assert "not a lambda or a nested function" in str(error)
    assert all(w.batches == [] for w in cls.made)


def test_as_completed_yields_every_future(monkeypatch):
    ex, _ = make(monkeypatch, workers=4)
    with ex:
        futures = {ex.submit(fakes.square, i): i for i in range(40)}
        seen = {futures[f]: f.result() for f in concurrent.futures.as_completed(futures, TIMEOUT)}
    assert seen == {i: i * i for i in range(40)}


# --- map ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("chunksize", [None, 1, 3, 1000])
def test_map_returns_results_in_order(monkeypatch, chunksize):
    ex, _ = make(monkeypatch, workers=3)
    with ex:
        assert list(ex.map(fakes.square, range(50), chunksize=chunksize)) == [i * i for i in range(50)]
        assert list(ex.map(pow, [2, 3, 4], [5, 2, 0], chunksize=chunksize)) == [32, 9, 1]
        assert list(ex.map(fakes.square, [], chunksize=chunksize)) == []


def chained(i, last):
    """Item i finishes only after item i + 1 has: completion order is the reverse of the input."""
    if i < last:
        fakes.wait_for(("done", i + 1))
    fakes.record("finished", i)
    fakes.open_gate(("done", i))
    return i * 10


@pytest.mark.parametrize("chunksize", [1, None])
def test_map_order_holds_when_results_arrive_in_reverse(monkeypatch, chunksize):
    ex, _ = make(monkeypatch, workers=4)
    with ex:
        results = list(ex.map(chained, range(4), [3] * 4, chunksize=chunksize, timeout=TIMEOUT))
    assert results == [0, 10, 20, 30]
    assert fakes.log("finished") == [3, 2, 1, 0]


@pytest.mark.parametrize("chunksize", [1, 2])
def test_map_raises_an_items_exception_when_it_is_reached(monkeypatch, chunksize):
    ex, _ = make(monkeypatch)
    with ex:
        results = ex.map(checked, [1, 2, -1, 4], chunksize=chunksize)
        assert next(results) == 1 and next(results) == 2
        with pytest.raises(ValueError, match="negative: -1"):
            next(results)


def checked(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x


@pytest.mark.parametrize("chunksize", [1, 2])
def test_map_times_out(monkeypatch, chunksize):
    ex, _ = make(monkeypatch, workers=1)
    try:
        results = ex.map(fakes.wait_for, ["never"] * 2, chunksize=chunksize, timeout=0.2)
        with pytest.raises(TimeoutError):
            next(results)
    finally:
        fakes.open_gate("never")
        ex.shutdown()


def test_map_rejects_a_chunksize_below_one(monkeypatch):
    ex, _ = make(monkeypatch)
    with ex, pytest.raises(ValueError, match="chunksize must be >= 1"):
        ex.map(fakes.square, [1], chunksize=0)


# --- batching and backpressure -----------------------------------------------------------------

def test_a_busy_worker_is_sent_at_most_two_batches_and_the_rest_waits(monkeypatch):
    ex, cls = make(monkeypatch, workers=1)
    with ex:
        first = ex.submit(fakes.wait_for, "go", "first")
        wait_until(lambda: cls.made[0].batches)
        rest = [ex.submit(fakes.square, i) for i in range(200)]
        # The worker is busy: nothing more is sent until it reports, however much is submitted.
        assert cls.made[0].batches == [[0]]
        assert len(ex._pending) == 200
        fakes.open_gate("go")
        assert first.result(TIMEOUT) == "first"
        assert [f.result(TIMEOUT) for f in rest] == [i * i for i in range(200)]
    batches = cls.made[0].batches
    # What waited went in a few large batches, not 200 messages.
    assert sum(len(b) for b in batches) == 201 and len(batches) <= 10, [len(b) for b in batches]


def test_long_calls_go_one_per_batch(monkeypatch):
    ex, cls = make(monkeypatch, workers=1, elapsed_per_call=0.01)
    with ex:
        ex.submit(fakes.square, 0).result(TIMEOUT)  # its report says calls take 10 ms
        assert list(ex.map(fakes.square, range(12), chunksize=1)) == [i * i for i in range(12)]
    assert [len(b) for b in cls.made[0].batches] == [1] * 13


def test_short_calls_share_batches(monkeypatch):
    ex, cls = make(monkeypatch, workers=1)
    with ex:
        assert list(ex.map(fakes.square, range(600), chunksize=1)) == [i * i for i in range(600)]
    sizes = [len(b) for b in cls.made[0].batches]
    assert sum(sizes) == 600 and max(sizes) > 1 and max(sizes) <= executor_module._MAX_BATCH


# --- cancel and shutdown -----------------------------------------------------------------------

def test_a_pending_call_can_be_cancelled_and_never_runs(monkeypatch):
    ex, cls = make(monkeypatch, workers=1)
    with ex:
        running = ex.submit(fakes.wait_for, "go")
        wait_until(lambda: running.running())
        queued = ex.submit(fakes.record, "ran", "queued")
        kept = ex.submit(fakes.record, "ran", "kept")
        assert queued.cancel() and queued.cancelled()
        assert not running.cancel()  # already running
        fakes.open_gate("go")
        assert kept.result(TIMEOUT) == "kept"
    assert fakes.log("ran") == ["kept"]


def test_shutdown_runs_what_was_submitted_then_refuses_more(monkeypatch):
    ex, cls = make(monkeypatch, workers=2)
    futures = [ex.submit(fakes.square, i) for i in range(30)]
    ex.shutdown(wait=True)
    assert all(f.done() for f in futures) and [f.result() for f in futures] == [i * i for i in range(30)]
    assert all(w.stopped for w in cls.made)
    assert ex._slots == []  # every reader has ended
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.submit(fakes.square, 1)
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        ex.map(fakes.square, [1], chunksize=1)
    ex.shutdown()  # twice is fine


def test_shutdown_with_cancel_futures_cancels_what_has_not_started(monkeypatch):
    ex, cls = make(monkeypatch, workers=1)
    running = ex.submit(fakes.wait_for, "go", "done")
    wait_until(lambda: running.running())
    queued = [ex.submit(fakes.record, "ran", i) for i in range(5)]
    ex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    fakes.open_gate("go")
    assert running.result(TIMEOUT) == "done"
    ex.shutdown(wait=True)
    assert fakes.log("ran") == [] and cls.made[0].stopped


def test_shutdown_without_wait_returns_while_a_call_runs(monkeypatch):
    ex, cls = make(monkeypatch, workers=1)
    running = ex.submit(fakes.wait_for, "go", 7)
    wait_until(lambda: running.running())
    ex.shutdown(wait=False)
    assert not running.done()
    fakes.open_gate("go")
    assert running.result(TIMEOUT) == 7
    ex.shutdown(wait=True)
    assert cls.made[0].stopped


# --- a worker that dies ------------------------------------------------------------------------

def test_a_worker_that_dies_fails_its_call_and_the_others_finish(monkeypatch):
    ex, cls = make(monkeypatch, workers=2)
    with ex:
        futures = [ex.submit(fakes.square, i) for i in range(20)]
        doomed = ex.submit(fakes.die, -11)
        futures += [ex.submit(fakes.square, i) for i in range(20, 40)]
        error = doomed.exception(TIMEOUT)
        assert [f.result(TIMEOUT) for f in futures] == [i * i for i in range(40)]
    assert type(error) is WorkerCrashed
    assert error.signal == 11 and error.exitcode == -11
    assert "died: signal 11 (SIGSEGV); pyhost.Executor replaced it" in str(error)
    assert error.pid in [w.pid for w in cls.made] and "the fake worker (pid" in str(error)
    assert len(cls.made) == 3  # the dead one was replaced


def test_calls_queued_behind_the_one_that_killed_the_worker_run_once_elsewhere(monkeypatch):
    ex, cls = make(monkeypatch, workers=1)
    with ex:
        blocker = ex.submit(fakes.wait_for, "go")
        wait_until(lambda: blocker.running())
        # Sent to the busy worker as one batch: the crash comes first, the rest is behind it.
        batch = [ex.submit(fakes.die, 3)] + [ex.submit(fakes.record, "ran", i) for i in range(5)]
        fakes.open_gate("go")
        error = batch[0].exception(TIMEOUT)
        assert [f.result(TIMEOUT) for f in batch[1:]] == list(range(5))
    assert type(error) is WorkerCrashed and error.exitcode == 3 and error.signal is None
    assert "died: exit status 3" in str(error)
    assert fakes.log("ran") == list(range(5))  # each once, in order
    assert len(cls.made) == 2


def test_a_map_item_that_kills_its_worker_fails_alone(monkeypatch):
    ex, cls = make(monkeypatch, workers=2)
    with ex:
        values = [1, 2, 3, -9, 4, 5, 6]
        results = ex.map(record_or_die, values, chunksize=1)
        assert [next(results) for _ in range(3)] == [1, 2, 3]
        with pytest.raises(WorkerCrashed, match="signal 9"):
            next(results)  # a map's iterator ends with the first exception, as the stdlib's
        assert list(ex.map(fakes.square, range(4), chunksize=1)) == [0, 1, 4, 9]
    # Items after it that had not started when the iterator ended are skipped; none ran twice.
    ran = fakes.log("ran")
    assert {1, 2, 3} <= set(ran)
    assert len(ran) == len(set(ran)) and set(ran) <= {1, 2, 3, 4, 5, 6}
    assert len(cls.made) == 3


def record_or_die(x):
    return fakes.die(x) if x < 0 else fakes.record("ran", x)


def call_with(fn, x):
    return fn(x)


def test_workers_that_die_before_serving_anything_break_the_executor(monkeypatch):
    class NeverUp(fakes.FakeWorker):
        made = []

        def receive(self):
            self.inbox.get()
            self.end = 1  # as a process that exits at start-up, before its first result
            return None

    monkeypatch.setitem(executor_module._LOCAL_WORKERS, "threads", NeverUp)
    ex = Executor("threads", 2)
    first = ex.submit(fakes.square, 2).exception(TIMEOUT)
    assert isinstance(first, concurrent.futures.BrokenExecutor)
    assert "a worker failed to start: exit status 1" in str(first)
    last = ex.submit(fakes.square, 3).exception(TIMEOUT)  # goes to the one left, which dies too
    assert isinstance(last, concurrent.futures.BrokenExecutor)
    assert str(last) == "pyhost.Executor: its threads workers cannot start: exit status 1"
    with pytest.raises(concurrent.futures.BrokenExecutor, match="cannot start"):
        ex.submit(fakes.square, 4)
    with pytest.raises(concurrent.futures.BrokenExecutor, match="cannot start"):
        ex.map(fakes.square, [1], chunksize=1)
    assert len(NeverUp.made) == 2  # not replaced: that would loop
    ex.shutdown()


def test_a_worker_that_sends_a_malformed_message_is_replaced(monkeypatch):
    replies = queue.SimpleQueue()
    ex, cls = make(monkeypatch, workers=1, raw_replies=replies)
    with ex:
        assert ex.submit(fakes.square, 2).result(TIMEOUT) == 4
        replies.put(b"not a pickle")
        error = ex.submit(fakes.square, 3).exception(TIMEOUT)
        assert ex.submit(fakes.square, 5).result(TIMEOUT) == 25
    assert type(error) is WorkerCrashed
    assert "it sent a malformed message (a results message that cannot be unpickled" in str(error)
    assert len(cls.made) == 2


def test_results_for_calls_never_sent_are_a_malformed_message(monkeypatch):
    replies = queue.SimpleQueue()
    ex, cls = make(monkeypatch, workers=1, raw_replies=replies)
    with ex:
        replies.put(protocol.encode_results([(12345, True, "stray")], 0.0))
        error = ex.submit(fakes.square, 3).exception(TIMEOUT)
        assert ex.submit(fakes.square, 6).result(TIMEOUT) == 36
    assert type(error) is WorkerCrashed and "results for calls the worker was not sent" in str(error)


# --- construction ------------------------------------------------------------------------------

def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown mode 'fibers': choose one of subinterpreters, "
                                         "processes, threads, freethreaded, mpi"):
        Executor("fibers")
    for workers in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            Executor("threads", workers)
    with pytest.raises(ValueError, match="unknown local mode 'threads' for mode 'mpi'"):
        Executor("mpi", 1, local="threads")


def test_an_executor_made_while_a_worker_loads_the_main_script_is_refused(monkeypatch):
    monkeypatch.setattr(worker, "loading_main", True)
    with pytest.raises(RuntimeError, match="while a worker was loading the main script"):
        Executor("threads", 1)


def test_workers_defaults_to_the_cpu_count(monkeypatch):
    monkeypatch.setattr(executor_module.os, "cpu_count", lambda: 3)
    ex, cls = make(monkeypatch, workers=None)
    with ex:
        assert ex.workers == 3 and len(cls.made) == 3
    assert repr(ex) == "<pyhost.Executor mode=threads workers=3>"
