"""Shared fixtures for end-to-end tests of the pyhost CLI (helpers: pyhost_testing.py).

PYHOST_BIN   path of the pyhost binary (default: <repo>/build/pyhost)
PYHOST_PYTHON_EXE  plain python of the same CPython that pyhost embeds (default: `pyhost info --python-exe`)

Without PYHOST_BIN and without a build/pyhost (a fresh checkout: `pytest tests/` before the
build), every module is reported skipped with that reason instead of failing to import (some
ask the binary what it is at import). A PYHOST_BIN that names a missing file fails as it is.
"""
import os

import pytest

from pyhost_testing import pyhost_bin, run_pyhost

NO_BINARY = (None if "PYHOST_BIN" in os.environ or os.access(pyhost_bin(), os.X_OK) else
             f"no pyhost binary at {pyhost_bin()}: build it first (README.md), or set PYHOST_BIN")


class _WithoutBinary(pytest.Module):
    def collect(self):
        pytest.skip(NO_BINARY)


def pytest_pycollect_makemodule(module_path, parent):
    if NO_BINARY and module_path.name.startswith("test_"):
        return _WithoutBinary.from_parent(parent, path=module_path)
    return None


@pytest.fixture(scope="session")
def python_exe() -> str:
    exe = os.environ.get("PYHOST_PYTHON_EXE")
    if exe:
        return exe
    out = run_pyhost(["info", "--python-exe"], check=True)
    return out.stdout.strip()


@pytest.fixture
def pyhost():
    return run_pyhost
