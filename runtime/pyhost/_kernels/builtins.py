"""Functions that kernels call: ``tid``, ``atomic_add``, ``random``.

Inside a translated kernel these are replaced by generated code; called from Python they are the
``python`` reference device's implementation, bit-for-bit the same where the result is an integer
or a random number.
"""
import threading

__all__ = ["tid", "atomic_add", "random", "philox4x32", "synchronize"]

_state = threading.local()
_M32 = 0xFFFFFFFF


def _set_tid(value):
    _state.tid = value


def tid():
    """Index of this thread in the launch: an int for ``k[n]``, ``(x, y)`` for ``k[w, h]``,
    ``(x, y, z)`` for ``k[w, h, d]``."""
    value = getattr(_state, "tid", None)
    if value is None:
        raise RuntimeError("pyhost.tid() is only meaningful inside a kernel launch")
    return value


def atomic_add(array, index, value):
    """``array[index] += value`` as one indivisible step; returns the value before the add."""
    old = array[index]
    array[index] = old + value
    return old


def philox4x32(counter, key):
    """Philox-4x32-10 (Salmon et al., SC'11): 4 counter words and 2 key words -> 4 words."""
    c0, c1, c2, c3 = (w & _M32 for w in counter)
    k0, k1 = (w & _M32 for w in key)
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & _M32
            k1 = (k1 + 0xBB67AE85) & _M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & _M32, (p0 >> 32) ^ c3 ^ k1, p0 & _M32)
    return c0, c1, c2, c3


def random(seed, counter):
    """A uniform float in [0, 1) with 53 random bits, a pure function of (seed, counter).

    Philox-4x32-10 keyed by the 64-bit seed over the 64-bit counter; every device computes the
    same bits, so a Monte Carlo kernel gives the same result on CUDA, CPU and the reference.
    """
    seed = int(seed)
    counter = int(counter)
    x0, x1, _, _ = philox4x32((counter & _M32, (counter >> 32) & _M32, 0, 0),
                              (seed & _M32, (seed >> 32) & _M32))
    return ((x0 >> 5) * 67108864.0 + (x1 >> 6)) * (1.0 / 9007199254740992.0)


def synchronize():
    """Wait until every launch in flight has finished (launches are synchronous today)."""
    return None
