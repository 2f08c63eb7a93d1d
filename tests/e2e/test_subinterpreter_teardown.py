"""End-to-end tests: ending a sub-interpreter leaves stderr clean.

CPython 3.13.0-3.13.2 printed "Exception ignored in: <function _DeleteDummyThreadOnDel.__del__ ...>
TypeError: 'NoneType' object does not support the context manager protocol" for every
sub-interpreter whose host thread threading had seen (as a _DummyThread), once the script had
imported something like concurrent.futures or logging.
"""
import pytest

from pyhost_testing import run_pyhost

THREAD_POOL = (
    "import concurrent.futures\n"
    "\n"
    "def square(x):\n"
    "    return x * x\n"
    "\n"
    "with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:\n"
    "    print(sum(pool.map(square, range(10))))\n"
)

EXECUTOR = (
    "import logging\n"
    "import threading\n"
    "import pyhost\n"
    "\n"
    "def work(x):\n"
    "    import logging\n"
    "    threading.current_thread()\n"
    "    return x + 1\n"
    "\n"
    "if __name__ == '__main__':\n"
    "    with pyhost.Executor('subinterpreters', workers=2) as ex:\n"
    "        print(sum(ex.map(work, range(10))))\n"
)


def host_summary_only(stderr):
    """stderr of a run whose tasks wrote nothing there: at most pyhost's summary line."""
    return [line for line in stderr.splitlines() if not line.startswith("pyhost: ")]


@pytest.mark.parametrize("tasks", [1, 2])
def test_thread_pool_executor_in_subinterpreters_leaves_stderr_clean(tmp_path, tasks):
    script = tmp_path / "pool.py"
    script.write_text(THREAD_POOL)
    out = run_pyhost(["run", "--mode", "subinterpreters", "-j2", "--tasks", tasks, script])
    assert out.returncode == 0, out.stderr
    assert "Exception ignored" not in out.stderr
    assert host_summary_only(out.stderr) == []
    assert sorted(line.split()[-1] for line in out.stdout.splitlines()) == ["285"] * tasks


@pytest.mark.parametrize("mode", ["serial", "threads", "subinterpreters"])
def test_subinterpreter_executor_workers_end_cleanly(tmp_path, mode):
    script = tmp_path / "executor.py"
    script.write_text(EXECUTOR)
    out = run_pyhost(["run", "--mode", mode, "-j2", "--tasks", 2, script])
    assert out.returncode == 0, out.stderr
    assert "Exception ignored" not in out.stderr
    assert host_summary_only(out.stderr) == []
    assert out.stdout.count("55\n") == 2
