"""The wire format between pyhost.Executor and its workers (runtime/pyhost/_executor/protocol.py)
and the worker's loop (worker.py) driven in this process: round trips, and what malformed
input gives."""
import os
import pickle
import socket
import threading

import pytest

from pyhost._executor import errors, protocol, worker
from pyhost._executor.protocol import ProtocolError


# --- frames ------------------------------------------------------------------------------------

def test_a_frame_header_round_trips():
    for tag, size in ((0, 0), (protocol.TAG_RESULTS, 5), (255, protocol.MAX_PAYLOAD)):
        header = protocol.frame_header(tag, size)
        assert len(header) == protocol.HEADER_SIZE
        assert protocol.parse_header(header) == (tag, size)
        assert header == protocol._header_struct().pack(tag, size)  # what the sockets' ends use
    assert protocol.frame_header(2, 258) == b"\x02\x02\x01\x00\x00"  # little-endian length


def test_a_frame_header_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="tag is one byte"):
        protocol.frame_header(256, 0)
    with pytest.raises(ValueError, match="tag is one byte"):
        protocol.frame_header(-1, 0)
    with pytest.raises(ValueError, match="at most"):
        protocol.frame_header(1, protocol.MAX_PAYLOAD + 1)
    with pytest.raises(ProtocolError, match="a frame header is 5 bytes, not 3"):
        protocol.parse_header(b"\x01\x00\x00")


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    a, b = protocol.Connection(ours), protocol.Connection(theirs)
    yield a, b
    for connection in (a, b):
        try:
            connection.close()
        except OSError:
            pass


def test_frames_round_trip_over_a_socket(pair):
    a, b = pair
    big = os.urandom(200_000)  # over the one-write limit: header and payload go separately
    messages = [(protocol.TAG_CALLS, b"abc"), (protocol.TAG_STOP, b""), (protocol.TAG_RESULTS, big),
                (7, bytes(range(256)))]

    def send_all():
        for tag, data in messages:
            a.send(tag, data)

    sender = threading.Thread(target=send_all)
    sender.start()
    got = [b.receive() for _ in messages]
    sender.join()
    assert got == messages


def test_the_end_of_the_stream_is_none(pair):
    a, b = pair
    a.send(1, b"last")
    a.sock.shutdown(socket.SHUT_WR)
    assert b.receive() == (1, b"last")
    assert b.receive() is None
    assert b.receive() is None


@pytest.mark.parametrize("raw", [b"\x01\x00", b"\x01\x05\x00\x00\x00abc"], ids=["cut header", "cut payload"])
def test_a_frame_cut_short_is_the_end_of_the_stream(pair, raw):
    a, b = pair
    a.sock.sendall(raw)
    a.sock.shutdown(socket.SHUT_WR)
    assert b.receive() is None


def test_the_workers_fd_end_speaks_the_same_frames():
    ours, theirs = socket.socketpair()
    executor_end = protocol.Connection(ours)
    worker_end = protocol.FdConnection(theirs.detach())
    try:
        executor_end.send(protocol.TAG_CALLS, b"x" * 70_000)
        assert worker_end.receive() == (protocol.TAG_CALLS, b"x" * 70_000)
        worker_end.send(protocol.TAG_BYE, b"")
        assert executor_end.receive() == (protocol.TAG_BYE, b"")
    finally:
        worker_end.close()
        executor_end.close()
    with pytest.raises(OSError):
        os.fstat(worker_end.fd)  # closed with its connection


# --- payloads ----------------------------------------------------------------------------------

def test_calls_round_trip():
    calls = [(0, b"payload"), (7, pickle.dumps((len, ("abc",), {})))]
    assert protocol.decode_calls(protocol.encode_calls(calls)) == calls
    assert protocol.decode_calls(protocol.encode_calls([])) == []


@pytest.mark.parametrize("data", [b"", b"garbage", pickle.dumps({"not": "a list"}), pickle.dumps((1, b"x"))])
def test_a_calls_message_that_is_not_a_list_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        protocol.decode_calls(data)


@pytest.mark.parametrize("calls", [[(1, b"x", 2)], [("1", pickle.dumps((abs, (1,), {})))], [[1]], [7],
                                   [(1, pickle.dumps((abs, (1,), {}))), (2, b"y", 3)]])
def test_a_malformed_call_pair_is_a_protocol_error_for_the_batch(calls):
    progress = memoryview(bytearray(8)).cast("q")  # a process worker's shared progress word
    with pytest.raises(ProtocolError, match="a call is"):
        worker.run_calls(calls, progress)


def test_a_payload_that_is_not_a_pickle_fails_its_call_alone():
    results = worker.run_calls([(1, "not bytes"), (2, pickle.dumps((abs, (-2,), {})))], [-1])
    assert results[0][:2] == (1, False) and isinstance(results[0][2], TypeError)
    assert results[1] == (2, True, 2)


def test_results_round_trip_with_values_and_errors():
    try:
        raise KeyError("missing")
    except KeyError as exc:
        error = exc
    data = protocol.encode_results([(3, True, {"a": [1, 2]}), (4, False, error), (5, True, None)], 0.25)
    results, elapsed = protocol.decode_results(data)
    assert elapsed == 0.25
    assert [(call_id, ok) for call_id, ok, _ in results] == [(3, True), (4, False), (5, True)]
    assert pickle.loads(results[0][2]) == {"a": [1, 2]} and pickle.loads(results[2][2]) is None
    exc_bytes, type_name, message, text = results[1][2]
    assert type_name == "builtins.KeyError" and message == "'missing'"
    assert "raise KeyError(\"missing\")" in text and "KeyError: 'missing'" in text
    rebuilt = errors.rebuild_error(results[1][2])
    assert type(rebuilt) is KeyError and rebuilt.args == ("missing",)
    assert rebuilt.remote_traceback == text and "KeyError: 'missing'" in str(rebuilt.__cause__)


def test_a_value_that_cannot_be_pickled_becomes_that_calls_error():
    results, _ = protocol.decode_results(protocol.encode_results(
        [(1, True, threading.Lock()), (2, True, "fine")], 0.0))
    assert results[1] == (2, True, pickle.dumps("fine", protocol.PROTOCOL))
    call_id, ok, value = results[0]
    assert (call_id, ok) == (1, False)
    rebuilt = errors.rebuild_error(value)
    assert isinstance(rebuilt, pickle.PicklingError)
    assert str(rebuilt).startswith("the result of the call cannot be sent back: ")


class NeedsTwo(Exception):
    def __init__(self, a, b):
        super().__init__(a + b)


def test_an_exception_that_cannot_be_rebuilt_is_sent_by_description():
    exc_bytes, type_name, message, text = protocol.error_value(NeedsTwo("x", "y"))
    assert exc_bytes is None  # pickles, but unpickling calls NeedsTwo("xy"): refused up front
    assert type_name == f"{__name__}.NeedsTwo" and message == "xy"
    rebuilt = errors.rebuild_error((exc_bytes, type_name, message, text))
    assert type(rebuilt) is errors.RemoteError
    assert str(rebuilt) == f"{__name__}.NeedsTwo: xy" and rebuilt.type_name == type_name


def test_an_error_value_whose_pickle_is_not_an_exception_becomes_a_remote_error():
    rebuilt = errors.rebuild_error((pickle.dumps("a string"), "x.Y", "msg", "tb"))
    assert type(rebuilt) is errors.RemoteError and rebuilt.remote_traceback == "tb"
    rebuilt = errors.rebuild_error((b"not a pickle", "x.Y", "msg", "tb"))
    assert type(rebuilt) is errors.RemoteError and str(rebuilt) == "x.Y: msg"


@pytest.mark.parametrize("data", [
    b"\x80\x05garbage",
    pickle.dumps([]),
    pickle.dumps(([], 0.1, "extra")),
    pickle.dumps(({}, 0.1)),
    pickle.dumps(([], "slow")),
    pickle.dumps(([(1, True)], 0.1)),
    pickle.dumps(([("1", True, b"")], 0.1)),
    pickle.dumps(([(1, True, "not a pickle")], 0.1)),
    pickle.dumps(([(1, False, ("too", "short"))], 0.1)),
    pickle.dumps(([(1, "yes", b"")], 0.1)),
    pickle.dumps(([(1, 1, b"")], 0.1)),
    pickle.dumps(([(1, False, (None, "t", "m", "tb")), (2, True, "not a pickle")], 0.1)),
    pickle.dumps(([(1, True, b""), (2, True, b"", "extra")], 0.1)),
])
def test_malformed_results_are_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        protocol.decode_results(data)


# --- the worker's loop, in this process --------------------------------------------------------

def add(a, b=0):
    return a + b


def boom():
    raise RuntimeError("boom")


def serve(messages):
    """Runs worker.serve over these messages; returns what it sent."""
    inbox = list(messages)
    sent = []
    progress = [-1]
    worker.serve(lambda: inbox.pop(0), lambda tag, data: sent.append((tag, data)), progress)
    assert progress == [-1]
    return sent


def test_the_worker_loop_runs_batches_until_stopped():
    dumps = lambda call: pickle.dumps(call, protocol.PROTOCOL)  # noqa: E731
    sent = serve([
        (protocol.TAG_CALLS, protocol.encode_calls([(1, dumps((add, (2, 3), {}))),
                                                    (2, dumps((add, (1,), {"b": 9})))])),
        (protocol.TAG_CALLS, protocol.encode_calls([(3, dumps((boom, (), {})))])),
        (protocol.TAG_STOP, b""),
    ])
    assert [tag for tag, _ in sent] == [protocol.TAG_RESULTS, protocol.TAG_RESULTS, protocol.TAG_BYE]
    first, elapsed = protocol.decode_results(sent[0][1])
    assert [(i, ok, pickle.loads(v)) for i, ok, v in first] == [(1, True, 5), (2, True, 10)]
    assert elapsed >= 0
    (call_id, ok, value), = protocol.decode_results(sent[1][1])[0]
    assert (call_id, ok) == (3, False)
    assert str(errors.rebuild_error(value)) == "boom"
    assert sent[2] == (protocol.TAG_BYE, b"")


def test_a_call_that_cannot_be_unpickled_fails_alone():
    sent = serve([
        (protocol.TAG_CALLS, protocol.encode_calls([(1, b"junk"), (2, pickle.dumps((add, (1, 1), {})))])),
        (protocol.TAG_STOP, b""),
    ])
    results, _ = protocol.decode_results(sent[0][1])
    assert results[0][:2] == (1, False) and results[1] == (2, True, pickle.dumps(2, protocol.PROTOCOL))
    assert isinstance(errors.rebuild_error(results[0][2]), pickle.UnpicklingError)


def test_a_malformed_batch_ends_the_worker():
    with pytest.raises(ProtocolError):
        serve([(protocol.TAG_CALLS, b"junk")])


def test_run_calls_reports_the_running_call():
    seen = []
    progress = [-1]

    def look():
        seen.append(progress[0])

    global _look
    _look = look
    calls = [(11, pickle.dumps((_call_look, (), {}))), (12, pickle.dumps((_call_look, (), {})))]
    results = worker.run_calls(calls, progress)
    assert seen == [11, 12] and progress == [-1]
    assert [(i, ok) for i, ok, _ in results] == [(11, True), (12, True)]


_look = None


def _call_look():
    _look()


def test_run_chunk_calls_once_per_argument_tuple():
    assert worker.run_chunk(add, [(1, 2), (3,), (4, 5)]) == [3, 3, 9]
