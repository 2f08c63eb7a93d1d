"""Where kernels run: ``PYHOST_DEVICE=auto|cuda|cpu|python`` and ``pyhost.set_device``.

``auto`` prefers CUDA, then the native CPU fallback, then (with a warning) the python reference.
The native engine is the ``_pyhost_kernels`` extension: built into the pyhost binary, or the
loadable module in ``build/python`` for plain python.
"""
import os
import sys
import threading

from .errors import KernelLaunchError

__all__ = ["set_device", "get_device", "native", "DEVICES"]

DEVICES = ("auto", "cuda", "cpu", "python")

_lock = threading.Lock()
_setting = None          # set_device() value; None: the environment decides
_resolved = None
_native = None
_native_error = None
_warned = False


def native():
    """The ``_pyhost_kernels`` module, or None (with the reason in ``native_error()``)."""
    global _native, _native_error
    if _native is None and _native_error is None:
        try:
            import _pyhost_kernels
            _native = _pyhost_kernels
        except ImportError as exc:
            _native_error = (f"the native kernel engine (_pyhost_kernels) is not available: "
                             f"{exc}; run under the pyhost binary or put build/python on "
                             f"PYTHONPATH")
    return _native


def native_error():
    native()
    return _native_error


def _validate(name):
    value = str(name).strip().lower()
    if value not in DEVICES:
        raise ValueError(f"unknown kernel device {name!r}: expected one of "
                         f"{', '.join(DEVICES)}")
    return value


def set_device(name):
    """Choose where kernels run from now on: "auto", "cuda", "cpu" or "python"."""
    global _setting, _resolved
    value = _validate(name)
    with _lock:
        _setting = value
        _resolved = None
    if value != "auto":
        get_device()  # a clear error now if that device is not available


def _requested():
    if _setting is not None:
        return _setting
    env = os.environ.get("PYHOST_DEVICE", "").strip()
    if not env:
        return "auto"
    try:
        return _validate(env)
    except ValueError as exc:
        raise KernelLaunchError(f"PYHOST_DEVICE: {exc}") from None


def cuda_status():
    mod = native()
    if mod is None:
        return False, native_error()
    return mod.cuda_status()


def cpu_status():
    mod = native()
    if mod is None:
        return False, native_error()
    return mod.cpu_status()


def get_device():
    """The device kernels run on now: "cuda", "cpu" or "python"."""
    global _resolved, _warned
    dev = _resolved
    if dev is not None:
        return dev
    with _lock:
        want = _requested()
        if want == "python":
            dev = "python"
        elif want == "cuda":
            ok, why = cuda_status()
            if not ok:
                raise KernelLaunchError(f"device 'cuda' was asked for but is not available: {why}")
            dev = "cuda"
        elif want == "cpu":
            ok, why = cpu_status()
            if not ok:
                raise KernelLaunchError(f"device 'cpu' was asked for but is not available: {why}")
            dev = "cpu"
        else:
            if cuda_status()[0]:
                dev = "cuda"
            elif cpu_status()[0]:
                dev = "cpu"
            else:
                dev = "python"
                if not _warned:
                    _warned = True
                    print(f"pyhost: kernels run on the python reference device (slow): "
                          f"{cpu_status()[1]}", file=sys.stderr)
        _resolved = dev
    return dev
