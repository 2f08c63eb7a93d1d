"""Imports in own-GIL sub-interpreters (--mode subinterpreters): what CPython refuses there gets
pyhost's hint naming the refused module and the package the script imported; `faulthandler`,
which CPython refuses too, is pyhost's stand-in (runtime/pyhost/_faulthandler.py), so that a
library's test suite runs there under pytest."""
import json
import re
import signal

import pytest

from pyhost_testing import REPO, run_pyhost

VENV = REPO / ".venv"
needs_venv = pytest.mark.skipif(not (VENV / "bin" / "python").exists(),
                                reason=".venv not set up (.ci/setup)")
WAY_OUT = "run this script with --mode processes or --mode threads."


def run_sub(args, **kwargs):
    return run_pyhost(["run", "--mode", "subinterpreters", *args], **kwargs)


def test_a_refused_standard_module_keeps_cpythons_error_and_gets_the_hint():
    out = run_sub(["-c", "import tracemalloc"])
    assert out.returncode == 1
    assert ("ImportError: module _tracemalloc does not support loading in subinterpreters"
            in out.stderr)
    assert out.stderr.splitlines()[-1] == (
        "pyhost: 'tracemalloc' cannot be imported in an own-GIL sub-interpreter: module "
        f"'_tracemalloc', which it imports, does not support them; {WAY_OUT}")


@needs_venv
def test_numpy_hint_names_the_refused_module_and_numpy():
    out = run_sub(["-c", "import numpy"], env={"VIRTUAL_ENV": str(VENV)})
    assert out.returncode == 1
    assert "Importing the numpy C-extensions failed" in out.stderr  # numpy's own error first
    assert out.stderr.splitlines()[-1] == (
        "pyhost: 'numpy' cannot be imported in an own-GIL sub-interpreter: module "
        f"'numpy._core._multiarray_umath', which it imports, does not support them; {WAY_OUT}")


@needs_venv
def test_the_hint_names_the_package_the_script_imported(tmp_path):
    # The script imports a package of its own that imports numpy: that package is the one named.
    (tmp_path / "wrapper").mkdir()
    (tmp_path / "wrapper" / "__init__.py").write_text("import numpy\n")
    script = tmp_path / "main.py"
    script.write_text("import os\nimport wrapper\n")
    out = run_sub([script], env={"VIRTUAL_ENV": str(VENV)})
    assert out.returncode == 1
    assert out.stderr.splitlines()[-1] == (
        "pyhost: 'wrapper' cannot be imported in an own-GIL sub-interpreter: module "
        f"'numpy._core._multiarray_umath', which it imports, does not support them; {WAY_OUT}")


FAULTHANDLER = """
import faulthandler, sys
print(faulthandler.__name__, faulthandler.is_enabled())
faulthandler.enable()
print(faulthandler.is_enabled())
def inner():
    faulthandler.dump_traceback(sys.stdout, all_threads=False)
inner()
faulthandler.dump_traceback_later(600)
faulthandler.cancel_dump_traceback_later()
print(faulthandler.disable(), faulthandler.is_enabled(), faulthandler.disable())
faulthandler.enable()  # left on: the end of the task gives it up
"""


@pytest.mark.parametrize("mode", ["serial", "subinterpreters"])
def test_faulthandler_works_in_a_task(tmp_path, mode):
    script = tmp_path / "fh.py"
    script.write_text(FAULTHANDLER)
    report = tmp_path / "report.json"
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "2", "--json", report, script])
    assert out.returncode == 0, out.stderr
    for task in json.loads(report.read_text())["tasks"]:
        assert task["stdout"] == (
            "faulthandler False\n"
            "True\n"
            "Stack (most recent call first):\n"
            f'  File "{script}", line 7 in inner\n'
            f'  File "{script}", line 8 in <module>\n'
            "True False False\n"), task


def test_the_watchdog_dumps_the_tasks_threads():
    # The task blocks reading a pipe that only the watchdog's dump fills: no sleeps.
    code = ("import faulthandler, os\n"
            "r, w = os.pipe()\n"
            "faulthandler.dump_traceback_later(0.2, file=w)\n"
            "def waiting():\n"
            "    return os.read(r, 65536)\n"
            "print(waiting().decode(), end='')\n")
    out = run_sub(["-c", code])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Timeout (0:00:00.200000)!", out.stdout
    assert lines[1].startswith("Thread 0x") and lines[1].endswith("(most recent call first):")
    assert lines[2:] == ['  File "<string>", line 5 in waiting',
                         '  File "<string>", line 6 in <module>'], out.stdout


def test_the_enabled_handler_is_the_process_handler():
    # A crash after enable() in a sub-interpreter task: CPython's own handler reports it; without
    # enable(), nothing does.
    crash = "import faulthandler, os, signal\n{}os.kill(os.getpid(), signal.SIGSEGV)\n"
    for enable, reported in (("faulthandler.enable()\n", True), ("", False)):
        out = run_sub(["-c", crash.format(enable)])
        assert out.returncode in (-signal.SIGSEGV, 128 + signal.SIGSEGV), (out.returncode, out.stderr)
        assert ("Fatal Python error: Segmentation fault" in out.stderr) == reported, out.stderr


PROJECT_TESTS = """
from mylib import double


def test_double():
    assert double(2) == 4


def test_double_is_wrong():
    assert double(3) == 7
"""


@needs_venv
@pytest.mark.parametrize("mode", ["serial", "subinterpreters"])
def test_a_projects_pytest_suite_runs_in_each_task(tmp_path, mode):
    (tmp_path / "mylib.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(PROJECT_TESTS)
    report = tmp_path / "report.json"
    tasks = 1 if mode == "serial" else 2
    out = run_pyhost(["run", "--mode", mode, "--tasks", tasks, "--json", report, "-m", "pytest",
                      "-q", "-p", "no:cacheprovider", "tests"],
                     env={"VIRTUAL_ENV": str(VENV)}, cwd=tmp_path,
                     timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr  # pytest's verdict: tests failed
    results = json.loads(report.read_text())["tasks"]
    assert len(results) == tasks
    for task in results:
        assert task["exit_code"] == 1, task
        assert re.search(r"^1 failed, 1 passed in [\d.]+s$", task["stdout"], re.M), task["stdout"]
        assert "FAILED tests/test_x.py::test_double_is_wrong - assert 6 == 7" in task["stdout"]
