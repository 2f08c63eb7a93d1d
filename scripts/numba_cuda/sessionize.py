"""Sessionization: per-user session ids over events sorted by user and time. A first kernel
marks where a session starts (a new user, or a gap longer than the module-level ``TIMEOUT``
numpy constant) with its own index; a second pass propagates each start's id forward over its
session's events.

    pyhost run scripts/numba_cuda/sessionize.py
"""
import numpy as np

from pyhost import cuda

TIMEOUT = np.int64(30 * 60)     # seconds of inactivity that end a session
NO_ID = np.int64(-1)


@cuda.jit
def mark_starts(user, stamp, session):
    i = cuda.grid(1)
    if i < user.shape[0]:
        if i == 0 or user[i] != user[i - 1] or stamp[i] - stamp[i - 1] > TIMEOUT:
            session[i] = i
        else:
            session[i] = NO_ID


@cuda.jit
def propagate(session):
    """Each session start fills the events after it up to the next start."""
    i = cuda.grid(1)
    n = session.shape[0]
    if i < n and session[i] == i:
        j = i + 1
        while j < n and session[j] == NO_ID:
            session[j] = i
            j += 1


def make_events(users=200, per_user=50, seed=0):
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(users, dtype=np.int64), per_user)
    gaps = rng.choice([60, 300, 900, 3600, 7200], size=user.size, p=[.4, .3, .15, .1, .05])
    stamp = np.zeros(user.size, dtype=np.int64)
    for u in range(users):
        s = slice(u * per_user, (u + 1) * per_user)
        stamp[s] = 1_700_000_000 + np.cumsum(gaps[s])
    return user, stamp


def run(users=200, per_user=50, seed=0):
    user, stamp = make_events(users, per_user, seed)
    d_user, d_stamp = cuda.to_device(user), cuda.to_device(stamp)
    session = cuda.device_array(user.size, dtype=np.int64)
    blocks = (user.size + 127) // 128
    mark_starts[blocks, 128](d_user, d_stamp, session)
    propagate[blocks, 128](session)
    return user, stamp, session.copy_to_host()


def numpy_reference(user, stamp):
    start = np.ones(user.size, dtype=bool)
    start[1:] = (user[1:] != user[:-1]) | (np.diff(stamp) > TIMEOUT)
    idx = np.where(start, np.arange(user.size), 0)
    return np.maximum.accumulate(idx)


if __name__ == "__main__":
    user, stamp, session = run()
    print("sessions", len(np.unique(session)), "equal to numpy:",
          int(np.array_equal(session, numpy_reference(user, stamp))))
    print("first ids", session[:12])
