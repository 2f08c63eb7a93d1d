"""Helpers of the end-to-end tests of the pyhost CLI, imported by the test modules by name
(`from pyhost_testing import run_pyhost`): tests/e2e is on sys.path when pytest imports them.

A module of its own, not conftest.py: every test folder has a conftest.py, so `from conftest
import ...` got whichever of them was imported last when several folders were collected at once.

PYHOST_BIN   path of the pyhost binary (default: <repo>/build/pyhost)
"""
import os
import pathlib
import statistics
import subprocess
import time

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


def peer_speedup(python_exe=None, rounds=3):
    """What this VM gives plain CPython right now: the same work in one `python` process, then
    in two at once, `rounds` times interleaved; the median of 2 x one's time / two's time. The
    VM's two vCPUs do not always run two busy processes at full speed (1.3-1.6x seen here on an
    idle machine), and pyhost cannot beat what the machine gives its peer. python_exe: the
    CPython pyhost embeds by default."""
    if python_exe is None:
        python_exe = run_pyhost(["info", "--python-exe"], check=True).stdout.strip()
    # scripts/cpu_bound.py's task (a function's loop, as long as one of its tasks), without
    # pyhost (which a plain python does not import).
    script = [python_exe, "-I", "-c",
              "def work(n):\n t = 0\n for i in range(n): t += i * i % 7\nwork(3_000_000)"]

    def wall(copies):
        start = time.perf_counter()
        procs = [subprocess.Popen(script, stdout=subprocess.DEVNULL) for _ in range(copies)]
        assert all(p.wait(timeout=120) == 0 for p in procs)
        return time.perf_counter() - start

    return statistics.median(2 * wall(1) / wall(2) for _ in range(rounds))
