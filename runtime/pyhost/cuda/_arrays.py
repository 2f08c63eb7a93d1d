"""``cuda.DeviceNDArray``: here, not in ``__init__``, so that ``random.py`` (which ``__init__``
imports) makes them without importing ``__init__``."""
import numpy as np


class DeviceNDArray:
    """``cuda.to_device`` / ``cuda.device_array``: a numpy array kept for the kernels (on the
    CPU device it is host memory, launches use it in place). As Numba's: ``d[i]`` gives a host
    scalar, slices give device views, iteration gives what indexing does."""

    __module__ = "pyhost.cuda"  # public there

    def __init__(self, array, is_states=False):
        self._a = array
        self._is_states = is_states

    shape = property(lambda self: self._a.shape if not self._is_states else self._a.shape[:1])
    size = property(lambda self: self.shape[0] if self._is_states else self._a.size)
    ndim = property(lambda self: len(self.shape))
    dtype = property(lambda self: self._a.dtype)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)

    def __len__(self):
        return self.shape[0]

    def copy_to_host(self, ary=None, stream=0):
        if ary is None:
            return self._a.copy()
        np.copyto(ary, self._a)
        return ary

    def copy_to_device(self, ary, stream=0):
        np.copyto(self._a, ary._a if isinstance(ary, DeviceNDArray) else np.asarray(ary))

    def is_c_contiguous(self):
        return self._a.flags.c_contiguous

    def reshape(self, *shape, order="C"):
        return DeviceNDArray(self._a.reshape(*shape, order=order))

    def ravel(self, order="C"):
        return DeviceNDArray(self._a.ravel(order=order))

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)

    def __getitem__(self, index):
        if self._is_states:
            return self._a[index]
        item = self._a[index]
        return DeviceNDArray(item) if isinstance(item, np.ndarray) else item

    def __setitem__(self, index, value):
        self._a[index] = value._a if isinstance(value, DeviceNDArray) else value

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    def __str__(self):
        return str(self._a)

    def __repr__(self):
        return f"<pyhost.cuda.DeviceNDArray shape={self.shape} dtype={self.dtype}>"

