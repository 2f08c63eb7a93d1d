"""Inside the free-threaded companion (pyhost-ft): pyhost never turns the GIL back on.

Run by ctest as `build/pyhost-ft run -m pytest tests/python` (with .venv-ft); in the default
build these tests are skipped.
"""
import importlib
import pkgutil
import sys
import sysconfig
import threading
import warnings

import pytest

import pyhost

free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
pytestmark = pytest.mark.skipif(
    not free_threaded, reason="not the free-threaded companion (build/pyhost-ft runs these)")


def test_the_gil_is_off():
    assert not sys._is_gil_enabled()


def test_importing_every_pyhost_module_keeps_the_gil_off():
    imported = []
    with warnings.catch_warnings():
        # CPython warns "The global interpreter lock (GIL) has been enabled to load module ..."
        warnings.simplefilter("error", RuntimeWarning)
        for name in ("_pyhost", "_pyhost_kernels"):
            try:
                importlib.import_module(name)
                imported.append(name)
            except ModuleNotFoundError:
                assert name == "_pyhost_kernels"  # a build without the kernels engine
        for info in pkgutil.walk_packages(pyhost.__path__, "pyhost."):
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as exc:
                # A module that needs an optional package this venv lacks (pyhost._magics:
                # IPython, which only Jupyter brings): pure Python, so it cannot turn the GIL
                # on. A missing module of pyhost's own is a real failure.
                if (exc.name or "pyhost").partition(".")[0] == "pyhost":
                    raise
                continue
            imported.append(info.name)
    assert "_pyhost" in imported and "pyhost._host" in imported and "pyhost.channel" in imported
    assert not sys._is_gil_enabled(), imported


def test_channel_between_threads_without_the_gil():
    # The channel's C++ queue, hammered by producer and consumer threads that really run at once.
    channel = pyhost.Channel(maxsize=8)
    n = 2000
    received = []

    def consume():
        for _ in range(2 * n):
            received.append(channel.get(timeout=30))

    def produce(base):
        for i in range(n):
            channel.put(base + i, timeout=30)

    threads = [threading.Thread(target=consume), threading.Thread(target=produce, args=(0,)),
               threading.Thread(target=produce, args=(n,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(received) == list(range(2 * n))
    assert not sys._is_gil_enabled()


def test_host_write_from_many_threads_at_once(capfd):
    # _pyhost.write (straight to fd 1 outside a multi-task run) from threads running at once.
    import _pyhost

    def write(k):
        for i in range(200):
            _pyhost.write(0, 1, f"thread {k} line {i}\n")

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = capfd.readouterr().out.splitlines()
    assert sorted(lines) == sorted(f"thread {k} line {i}" for k in range(4) for i in range(200))
