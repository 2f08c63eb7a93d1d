"""Letters between the ranks of `pyhost run --engine mpi`, and pyhost.Channel across them.

Letters are pickled tuples carried by the rank's communication thread (`_pyhost.mpi_post` /
`mpi_receive`, host/mpi/executor_mailbox.hpp); mpi.py's readers hand channel letters here.

A Channel lives on the rank that made it; a worker on another rank gets a RemoteBackend, whose
operations are requests to the owner. The owner does each one on the real channel and answers
when it is done: a put to a full channel blocks its producer, whatever its rank, until there is
room (bounded flow).
"""
import os
import pickle
import sys
import threading

from . import channel_rpc

try:
    import _pyhost
except ImportError:  # plain python: no ranks
    _pyhost = None

# Letter kinds.
START, TO_WORKER, FROM_WORKER, ENDED, CHAN_REQUEST, CHAN_REPLY = range(1, 7)


def my_rank():
    return int(os.environ.get("PYHOST_RANK", "0"))


def post(dest, letter):
    _pyhost.mpi_post(dest, pickle.dumps(letter, pickle.HIGHEST_PROTOCOL))


def report_bad_letter(source):
    import traceback

    print(f"pyhost: rank {my_rank()}: a pyhost.Executor message from rank {source} could not be "
          f"handled:\n{traceback.format_exc()}", file=sys.stderr, end="")


def remote_op(owner_rank, op, channel_id, tag=0, data=b"", timeout=None):
    """One operation on a channel of another rank; its result once the owner has done it."""
    reply = _pyhost.chan_new(0)
    try:
        post(owner_rank, (CHAN_REQUEST, my_rank(), reply, channel_id, op, tag, bytes(data), timeout))
        status, _, payload = _pyhost.chan_get(reply, None)
    finally:
        _pyhost.chan_release(reply)
    if status != 0:
        raise channel_rpc.ChannelClosed("the MPI run ended before the channel's rank answered")
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
        return remote_op(self.rank, channel_rpc.RPC_PUT, self.id, tag, data, timeout)

    def get(self, timeout):
        return remote_op(self.rank, channel_rpc.RPC_GET, self.id, timeout=timeout)

    def close(self):
        return remote_op(self.rank, channel_rpc.RPC_CLOSE, self.id)

    def state(self):
        return remote_op(self.rank, channel_rpc.RPC_STATE, self.id)

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
    _, reply_rank, reply, channel_id, op, tag, data, timeout = letter

    def answer(outcome):
        try:
            post(reply_rank, (CHAN_REPLY, reply, pickle.dumps(outcome)))
        except RuntimeError:
            pass  # the run is over

    def attempt(wait):
        try:
            return True, (True, channel_rpc.serve_one(op, channel_id, tag, data, wait, lambda: True))
        except Exception as exc:  # noqa: BLE001 - the requester raises it
            return True, channel_rpc.error_reply(exc)

    if op in (channel_rpc.RPC_PUT, channel_rpc.RPC_GET) and timeout != 0:
        done, outcome = attempt(0.0)
        ok, value = outcome
        status = value if op == channel_rpc.RPC_PUT else (value[0] if ok else None)
        if ok and status == channel_rpc.TIMEOUT:  # full (put) or empty (get): wait on a thread
            waiter = threading.Thread(target=lambda: answer(attempt(timeout)[1]),
                                      name="pyhost-channel-remote-op")
            waiter._pyhost_internal = True
            waiter.start()
            return
        answer(outcome)
        return
    answer(attempt(timeout if timeout is not None else None)[1])
