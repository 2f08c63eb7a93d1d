"""``@pyhost.kernel``: Python functions translated to CUDA C++ (NVRTC) with a native CPU fallback.

Scripts use these names as ``pyhost.X`` (``PUBLIC_NAMES``); the ``pyhost`` package exposes them
lazily so that ``import pyhost`` stays cheap. The translator (``ast``, ``inspect``) is imported
only when ``kernel``/``func`` (or another name that needs it) is first touched.
"""
from .types import f32, f64, i32, i64, u32, u8, boolean  # noqa: F401 - light
from .builtins import tid, atomic_add, random, synchronize  # noqa: F401 - light
from .errors import (KernelError, KernelSyntaxError, KernelTypeError,  # noqa: F401 - light
                     KernelLaunchError)
from .device import set_device, get_device  # noqa: F401 - light

PUBLIC_NAMES = [
    "kernel", "func", "tid", "atomic_add", "random", "device_array", "set_device", "get_device",
    "synchronize", "f32", "f64", "i32", "i64", "u32", "u8", "boolean", "KernelError",
    "KernelSyntaxError", "KernelTypeError", "KernelLaunchError",
]

_LAZY = {"kernel", "func", "device_array", "Kernel", "Func", "DeviceArray"}


def __getattr__(name):
    if name in _LAZY:
        from . import core as _core
        value = getattr(_core, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pyhost._kernels' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)
