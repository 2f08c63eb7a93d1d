"""A process worker's Channel operations as requests to its executor (runtime/pyhost/_executor/
channel_rpc.py), with a scripted connection in place of the executor."""
import pickle

import pytest

from pyhost import channel
from pyhost._executor import channel_rpc


class ScriptedConnection:
    """Records requests; answers each with the next scripted reply (None: the executor is gone)."""

    def __init__(self, *replies):
        self.requests = []
        self.replies = list(replies)

    def send(self, op, payload):
        self.requests.append((op, channel_rpc.decode_request(payload)))

    def receive(self):
        reply = self.replies.pop(0)
        return None if reply is None else (0, pickle.dumps(reply))


def test_each_operation_is_one_request_and_its_answer():
    connection = ScriptedConnection((True, channel_rpc.OK), (True, (channel_rpc.OK, 1, b"item")),
                                    (True, (3, False, 8)), (True, None))
    backend = channel_rpc.ProxyBackend(connection, 42, owner_pid=1234, owner_rank=0)
    assert backend.put(channel_rpc.PICKLED, bytearray(b"data"), 1.5) == channel_rpc.OK
    assert backend.get(None) == (channel_rpc.OK, 1, b"item")
    assert backend.state() == (3, False, 8)
    backend.close()
    assert connection.requests == [
        (channel_rpc.RPC_PUT, (42, channel_rpc.PICKLED, b"data", 1.5, 0)),
        (channel_rpc.RPC_GET, (42, 0, b"", None, 0)),
        (channel_rpc.RPC_STATE, (42, 0, b"", None, 0)),
        (channel_rpc.RPC_CLOSE, (42, 0, b"", None, 0)),
    ]
    assert backend.reference() == (42, 1234, 0)


def test_an_error_answer_is_raised_and_a_gone_executor_closes_the_channel():
    backend = channel_rpc.ProxyBackend(ScriptedConnection((False, ValueError("bad id")), None), 1, 1)
    with pytest.raises(ValueError, match="bad id"):
        backend.state()
    with pytest.raises(channel_rpc.ChannelClosed, match="the pyhost.Executor that served this channel is gone"):
        backend.get(0.0)


def test_an_error_that_cannot_cross_is_named_in_a_runtime_error():
    class Local(Exception):
        pass

    ok, error = channel_rpc.error_reply(Local("here"))
    assert ok is False and type(error) is RuntimeError and str(error) == "Local: here"
    ok, error = channel_rpc.error_reply(KeyError("k"))
    assert ok is False and type(error) is KeyError


def test_channel_closed_is_the_public_one():
    assert channel.ChannelClosed is channel_rpc.ChannelClosed
    assert pickle.loads(pickle.dumps(channel.ChannelClosed("x"))).args == ("x",)
    assert repr(channel.ChannelClosed) == "<class 'pyhost.channel.ChannelClosed'>"
