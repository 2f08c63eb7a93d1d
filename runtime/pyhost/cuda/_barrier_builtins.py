"""The Python objects of ``cuda.local.array``, ``cuda.shared.array`` and ``cuda.syncthreads``: what
``_builtins.py`` registers lowerings for (and re-exports) and ``_blocks.py`` looks for in a
kernel's source (by identity). A leaf module."""


def _local_array(shape, dtype):
    import numpy as np
    return np.zeros(shape, dtype=dtype)


def _shared_array(shape, dtype):
    raise RuntimeError("cuda.shared.array is only meaningful inside a @cuda.jit kernel")


def syncthreads():
    """A barrier of the block's threads."""
