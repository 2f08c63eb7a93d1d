"""Fake workers for unit tests of pyhost.Executor's scheduling (no process, no sub-interpreter).

A FakeWorker has the face of the real ones (runtime/pyhost/_executor/workers.py) and speaks the
real protocol: it gets pickled call batches, runs them on the executor's reader thread (as the
thread worker does) and answers with protocol.encode_results. What a call does is scripted by
the functions below: `die(code)` makes the worker die as a process would (receive() -> None,
finish() -> code, running_call() -> that call), `wait_for(gate)` blocks until a test opens it.
Every worker made and every batch it got is recorded on its class (see worker_class()).
"""
import pickle
import queue
import threading

from pyhost._executor import protocol
from pyhost._executor.pickling import PickledCalls

TIMEOUT = 30  # seconds a test waits for anything: generous, nothing here should take long


class Died(BaseException):
    """Raised by die(): the fake worker ends as a process killed by that status would."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def die(code):
    raise Died(code)


def square(x):
    return x * x


def fail(message):
    raise ValueError(message)


_gates = {}


def gate(name):
    """An event that calls can wait for by name (names, not events, go through pickles)."""
    return _gates.setdefault(name, threading.Event())


def wait_for(name, value=None):
    if not gate(name).wait(TIMEOUT):
        raise TimeoutError(f"gate {name!r} never opened")
    return value


def open_gate(name):
    gate(name).set()


def record(log_name, value):
    """Appends value to a named list (what ran, in which order)."""
    _gates.setdefault(("log", log_name), []).append(value)
    return value


def log(log_name):
    return _gates.get(("log", log_name), [])


def reset():
    for name, item in list(_gates.items()):
        if isinstance(item, threading.Event):
            item.set()  # nothing stays blocked past its test
    _gates.clear()


class FakeWorker:
    calls = PickledCalls
    forwards_output = False
    loads_main_script = False
    made = None  # the workers of this class, in order (set by worker_class)
    elapsed_per_call = 0.0  # what it reports as each call's run time
    raw_replies = None  # a queue of raw TAG_RESULTS payloads to send instead of real results

    def __init__(self, index, setup, output=None):
        self.index = index
        self.setup = pickle.loads(setup) if setup else None
        self.pid = 4000 + len(self.made)
        self.label = "fake worker"
        self.inbox = queue.SimpleQueue()
        self.batches = []  # the call ids of each batch it got
        self.running = None
        self.end = None
        self.stopped = False
        self.made.append(self)

    def send(self, tag, data):
        self.inbox.put((tag, data))

    def receive(self):
        tag, data = self.inbox.get()
        if tag == protocol.TAG_STOP:
            self.stopped = True
            return protocol.TAG_BYE, b""
        assert tag == protocol.TAG_CALLS, tag
        calls = protocol.decode_calls(data)
        self.batches.append([call_id for call_id, _ in calls])
        if self.raw_replies is not None and not self.raw_replies.empty():
            return protocol.TAG_RESULTS, self.raw_replies.get()
        results = []
        for call_id, payload in calls:
            self.running = call_id
            fn, args, kwargs = pickle.loads(payload)
            try:
                results.append((call_id, True, fn(*args, **kwargs)))
            except Died as death:
                self.end = death.code
                return None
            except Exception as exc:  # noqa: BLE001 - goes back to its future
                results.append((call_id, False, exc))
        self.running = None
        return protocol.TAG_RESULTS, protocol.encode_results(results, self.elapsed_per_call * len(results))

    def stop(self):
        self.send(protocol.TAG_STOP, b"")

    def finish(self):
        return self.end

    def kill(self):
        pass

    def running_call(self):
        return self.running


def worker_class(**attributes):
    """A FakeWorker class of its own (its own record of workers made)."""
    return type("FakeWorker", (FakeWorker,), {"made": [], **attributes})
