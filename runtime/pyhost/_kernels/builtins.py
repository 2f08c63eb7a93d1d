"""Functions that kernels call: ``tid``, ``atomic_add``, ``random``, ``synchronize``.

Inside a translated kernel these are replaced by generated code; called from Python they are the
``python`` reference device's implementation, bit-for-bit the same where the result is an integer
or a random number. Each one is defined with its typing, lowering and C++ in its entry of the
intrinsics table (``intrinsics.py``); this module is the public face.
"""
from .intrinsics import _set_tid, _state, atomic_add, philox4x32, random, synchronize, tid

__all__ = ["tid", "atomic_add", "random", "philox4x32", "synchronize", "_state", "_set_tid"]
