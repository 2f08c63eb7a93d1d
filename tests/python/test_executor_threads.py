"""Mode "threads": the ThreadWorker (runtime/pyhost/_executor/workers.py) behind the Executor's
one scheduler, with the DirectCalls codec: nothing is pickled, as with ThreadPoolExecutor."""
import concurrent.futures
import sys
import threading

import pytest

from pyhost._executor import workers
from pyhost.executor import Executor

TIMEOUT = 30


def test_lambdas_closures_and_shared_arguments_work():
    shared = []
    offset = 5
    with Executor("threads", 2) as ex:
        assert ex.submit(lambda x: x + offset, 1).result(TIMEOUT) == 6
        ex.submit(shared.append, "seen").result(TIMEOUT)
        assert list(ex.map(lambda x: x * 2, range(10))) == list(range(0, 20, 2))
    assert shared == ["seen"]  # the caller's list itself, not a copy


def test_an_exception_is_the_object_the_call_raised():
    raised = KeyError("k")

    def fail():
        raise raised

    with Executor("threads", 1) as ex:
        error = ex.submit(fail).exception(TIMEOUT)
    assert error is raised and error.__traceback__ is not None


def test_calls_run_on_the_workers_threads():
    with Executor("threads", 3) as ex:
        names = set(ex.map(lambda _: threading.current_thread().name, range(60), chunksize=1))
    assert names and all(name.startswith("pyhost-executor-threads-") for name in names)
    assert threading.current_thread().name not in names


def test_map_keeps_order_with_uneven_calls():
    events = [threading.Event() for _ in range(4)]

    def item(i):
        if i < 3:
            assert events[i + 1].wait(TIMEOUT)
        events[i].set()
        return i

    with Executor("threads", 4) as ex:
        assert list(ex.map(item, range(4), chunksize=1, timeout=TIMEOUT)) == [0, 1, 2, 3]


def test_a_call_can_submit_to_its_own_executor():
    with Executor("threads", 2) as ex:
        outer = ex.submit(lambda: ex.submit(pow, 2, 10).result(TIMEOUT))
        assert outer.result(TIMEOUT) == 1024


def test_cancel_and_shutdown_with_cancel_futures():
    go = threading.Event()
    ran = []
    ex = Executor("threads", 1)
    blocker = ex.submit(go.wait, TIMEOUT)
    queued = [ex.submit(ran.append, i) for i in range(3)]
    assert queued[0].cancel()
    ex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    go.set()
    assert blocker.result(TIMEOUT) is True
    ex.shutdown(wait=True)
    assert ran == []
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(print)


def test_as_completed_over_many_calls():
    with Executor("threads", 4) as ex:
        futures = [ex.submit(divmod, i, 7) for i in range(200)]
        done = list(concurrent.futures.as_completed(futures, TIMEOUT))
    assert len(done) == 200 and {f.result() for f in done} == {divmod(i, 7) for i in range(200)}


def test_the_thread_worker_alone():
    """Its face without an executor: a batch in, results out, a stop ends it."""
    worker = workers.ThreadWorker(0)
    worker.send(2, [(1, (pow, (2, 3), {})), (2, (int, ("x",), {}))])
    tag, (results, elapsed) = worker.receive()
    assert tag == 4 and elapsed >= 0
    assert results[0] == (1, True, 8)
    assert results[1][:2] == (2, False) and isinstance(results[1][2], ValueError)
    worker.stop()
    assert worker.receive() == (5, b"") and worker.finish() is None and worker.running_call() is None


def test_freethreaded_needs_a_free_threaded_python():
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        with Executor("freethreaded", 2) as ex:
            assert ex.mode == "threads" and ex.submit(abs, -1).result(TIMEOUT) == 1
        return
    with pytest.raises(RuntimeError, match="needs a free-threaded CPython"):
        Executor("freethreaded", 2)


def test_outside_pyhost_subinterpreters_fall_back_to_threads_with_a_warning():
    try:
        import _pyhost  # noqa: F401
        pytest.skip("runs under pyhost: the modes are real there")
    except ImportError:
        pass
    # Sub-interpreters fall back only without the _pyhost_subinterpreters extension (with it:
    # tests/e2e/test_executor_plain_python.py).
    from pyhost._executor import channel_rpc

    if channel_rpc.native is None:
        expected = ("not running under pyhost and no extension _pyhost_subinterpreters for this "
                    "python .*, so mode 'subinterpreters' falls back to threads")
        with pytest.warns(RuntimeWarning, match=expected):
            ex = Executor("subinterpreters", 2)
        with ex:
            assert ex.mode == "threads" and ex.submit(lambda: 3).result(TIMEOUT) == 3
    # Process workers are the pyhost program's; with none to be found, threads and a warning
    # that names where it looked.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYHOST_EXE", "/nonexistent/pyhost")
        with pytest.warns(RuntimeWarning, match="no pyhost program found .*/nonexistent/pyhost.*"
                                                "so mode 'processes' falls back to threads"):
            ex = Executor("processes", 2)
        with ex:
            assert ex.mode == "threads" and ex.submit(lambda: 3).result(TIMEOUT) == 3
    with pytest.warns(RuntimeWarning, match="no ranks serve it here"):
        ex = Executor("mpi", 1)
    with ex:
        assert ex.mode == "threads" and ex.requested_mode == "mpi"
