"""Helpers of the end-to-end tests of the pyhost CLI, imported by the test modules by name
(`from pyhost_testing import run_pyhost`): tests/e2e is on sys.path when pytest imports them.

A module of its own, not conftest.py: every test folder has a conftest.py, so `from conftest
import ...` got whichever of them was imported last when several folders were collected at once.

PYHOST_BIN   path of the pyhost binary (default: <repo>/build/pyhost)
"""
import os
import pathlib
import subprocess

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
