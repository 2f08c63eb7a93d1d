"""Shared fixtures for end-to-end tests of the pyhost CLI.

PYHOST_BIN   path of the pyhost binary (default: <repo>/build/pyhost)
PYHOST_PYTHON_EXE  plain python of the same CPython that pyhost embeds (default: `pyhost info --python-exe`)
"""
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"


def pyhost_bin() -> str:
    return os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))


def run_pyhost(args, *, input=None, timeout=120, env=None, cwd=None, check=False):
    """Run `pyhost ARGS...`; returns subprocess.CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [pyhost_bin(), *map(str, args)],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
        check=check,
    )


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
