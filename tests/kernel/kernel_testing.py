"""Helpers of the @pyhost.kernel tests, imported by the test modules by name (`from kernel_testing
import needs_cpu`; tests/kernel is on sys.path when pytest imports them) and by conftest.py, which
imports it first. A module of its own, not conftest.py: every test folder has a conftest.py, so
`from conftest import ...` got whichever of them was imported last when several folders were
collected at once.

The native engine `_pyhost_kernels` comes from PYTHONPATH (ctest sets runtime:build/python); when
it is missing, <repo>/build/python is tried, and native tests skip with the reason. Kernels are
cached in a private temporary directory for the session, never in the user's cache.
"""
import atexit
import contextlib
import importlib
import os
import pathlib
import shutil
import sys
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]

for extra in (REPO / "runtime", REPO / "build" / "python"):
    if extra.is_dir() and str(extra) not in sys.path:
        sys.path.append(str(extra))

_CACHE = tempfile.mkdtemp(prefix="pyhost-kernel-test-cache-")
os.environ["PYHOST_KERNEL_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ.pop("PYHOST_DEVICE", None)

from pyhost import _kernels as pk  # noqa: E402


def native_module():
    try:
        return importlib.import_module("_pyhost_kernels")
    except ImportError:
        return None


NATIVE = native_module()
NATIVE_REASON = "the native kernel engine _pyhost_kernels is not built (build/python)"
CPU_OK = bool(NATIVE) and NATIVE.cpu_status()[0]
CPU_REASON = NATIVE_REASON if not NATIVE else f"no C++ compiler: {NATIVE.cpu_status()[1]}"

needs_native = pytest.mark.skipif(NATIVE is None, reason=NATIVE_REASON)
needs_cpu = pytest.mark.skipif(not CPU_OK, reason=CPU_REASON)


@contextlib.contextmanager
def device(name):
    pk.set_device(name)
    try:
        yield
    finally:
        pk.set_device("auto")


def launch(kernel, dev, dims, *args):
    with device(dev):
        kernel[dims](*args)
    assert kernel.device == dev
    return args


def cache_path():
    return pathlib.Path(_CACHE)


# Until runtime/pyhost/__init__.py exposes the kernel names (pyhost.kernel, pyhost.f32, ...),
# give the examples in scripts/kernels the same view: the names of PUBLIC_NAMES on `pyhost`.
import pyhost  # noqa: E402

for _name in pk.PUBLIC_NAMES:
    if _name not in vars(pyhost):
        try:
            getattr(pyhost, _name)
        except AttributeError:
            setattr(pyhost, _name, getattr(pk, _name))


NUMBA_CUDA_SCRIPTS = REPO / "scripts" / "numba_cuda"


def import_numba_cuda_scripts():
    """Makes the programs of scripts/numba_cuda importable by name (their tests import them)."""
    if str(NUMBA_CUDA_SCRIPTS) not in sys.path:
        sys.path.insert(0, str(NUMBA_CUDA_SCRIPTS))
