"""Imports in own-GIL sub-interpreters (--mode subinterpreters): what CPython refuses there gets
pyhost's hint naming the refused module and the package the script imported; `faulthandler`,
which CPython refuses too, is pyhost's stand-in (runtime/pyhost/_faulthandler.py), so that a
library's test suite runs there under pytest."""
import json
import re
import signal
import sys

import pytest

from pyhost_testing import REPO, run_pyhost

VENV = REPO / ".venv"
needs_venv = pytest.mark.skipif(not (VENV / "bin" / "python").exists(),
                                reason=".venv not set up (.ci/setup-tests)")
WAY_OUT = "run this script with --mode processes or --mode threads."


def run_sub(args, **kwargs):
    return run_pyhost(["run", "--mode", "subinterpreters", "-j", "1", "--tasks", "1", *args],
                      **kwargs)


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


# dump_traceback() writes to the file's descriptor, as CPython's does (not through a task's
# captured sys.stdout): a pipe brings it back to print.
FAULTHANDLER = """
import faulthandler, os
print(faulthandler.__name__, faulthandler.is_enabled())
faulthandler.enable()
print(faulthandler.is_enabled())
r, w = os.pipe()
def inner():
    faulthandler.dump_traceback(w, all_threads=False)
inner()
os.close(w)
print(os.read(r, 65536).decode(), end="")
faulthandler.dump_traceback_later(600)
faulthandler.cancel_dump_traceback_later()
print(faulthandler.disable(), faulthandler.is_enabled(), faulthandler.disable())
faulthandler.enable()  # left on: the end of the task gives it up
"""


@pytest.mark.parametrize("mode, workers, tasks", [("serial", 1, 1), ("subinterpreters", 2, 2),
                                                  ("subinterpreters", 1, 3)])
def test_faulthandler_works_in_a_task(tmp_path, mode, workers, tasks):
    # Serial: CPython's own faulthandler, the control. Sub-interpreters: the stand-in, in tasks
    # at once and in tasks one after another in one interpreter (each starts with it off).
    script = tmp_path / "fh.py"
    script.write_text(FAULTHANDLER)
    report = tmp_path / "report.json"
    out = run_pyhost(["run", "--mode", mode, "-j", workers, "--tasks", tasks, "--json", report,
                      script])
    assert out.returncode == 0, out.stderr
    for task in json.loads(report.read_text())["tasks"]:
        # The same as CPython's own faulthandler in serial mode, pyhost's frames under the script's.
        lines = task["stdout"].splitlines()
        assert lines[:5] == ["faulthandler False", "True", "Stack (most recent call first):",
                             f'  File "{script}", line 8 in inner',
                             f'  File "{script}", line 9 in <module>'], task["stdout"]
        assert all(line.startswith('  File "') and "pyhost" in line for line in lines[5:-1])
        assert lines[-1] == "True False False", task["stdout"]


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
    header, *threads = out.stdout.split("\n\n")[0], *out.stdout.split("\n\n")[1:]
    assert header.startswith("Timeout (0:00:00.200000)!\nThread 0x"), out.stdout
    # Only this interpreter's threads (the task's and pyhost's watcher), the watchdog left out.
    blocks = [block.splitlines() for block in out.stdout.removeprefix("Timeout (0:00:00.200000)!\n")
              .split("\n\n")]
    assert all(re.fullmatch(r"Thread 0x[0-9a-f]{16} \(most recent call first\):", b[0]) for b in blocks)
    waiting = [b for b in blocks if '  File "<string>", line 5 in waiting' in b]
    assert len(waiting) == 1 and waiting[0][1:3] == ['  File "<string>", line 5 in waiting',
                                                     '  File "<string>", line 6 in <module>'], out.stdout
    assert "_faulthandler.py" not in out.stdout


def test_the_enabled_handler_is_the_process_handler():
    # A crash after enable() in a sub-interpreter task: CPython's own handler reports it, with
    # the crashing thread's stack; without enable(), nothing does. The signal goes to the task's
    # thread, as a real fault's does.
    crash = ("import faulthandler, resource, signal, threading\n"
             "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file\n"
             "{}signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)\n")
    for enable, reported in (("faulthandler.enable()\n", True), ("", False)):
        out = run_sub(["-c", crash.format(enable)])
        assert out.returncode in (-signal.SIGSEGV, 128 + signal.SIGSEGV), (out.returncode, out.stderr)
        assert ("Fatal Python error: Segmentation fault" in out.stderr) == reported, out.stderr
        assert ('Current thread 0x' in out.stderr and '  File "<string>", line 4 in <module>'
                in out.stderr) == reported, out.stderr


PROJECT_TESTS = """
from mylib import double


def test_double():
    assert double(2) == 4


def test_double_is_wrong():
    assert double(3) == 7
"""


def task_outputs(stdout, tasks):
    return ["".join(line.removeprefix(f"[task {n}] ") + "\n" for line in stdout.splitlines()
                    if line.startswith(f"[task {n}] ")) for n in range(tasks)]


# CPython 3.13's _datetime (pytest imports datetime) breaks in sub-interpreters that start or end
# at the same time: wrong types ("'datetime.datetime' object has no attribute 'timestamp'",
# python/cpython#136421) or heap corruption at Py_EndInterpreter (#136423), fixed upstream in
# 2025. With one worker the tasks share one sub-interpreter and never meet it.
CONCURRENT_DATETIME = pytest.mark.xfail(
    sys.version_info < (3, 14), strict=False,
    reason="CPython 3.13 _datetime in concurrent sub-interpreters: python/cpython#136421, #136423")


@needs_venv
@pytest.mark.parametrize("mode, workers", [("serial", 1), ("subinterpreters", 1),
                                           pytest.param("subinterpreters", 2,
                                                        marks=CONCURRENT_DATETIME)])
def test_a_projects_pytest_suite_runs_in_each_task(tmp_path, mode, workers):
    # pytest's faulthandler plugin imports faulthandler at start-up: in sub-interpreters it is
    # pyhost's stand-in. One worker runs both tasks in one sub-interpreter, two at once in two.
    (tmp_path / "mylib.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(PROJECT_TESTS)
    report = tmp_path / "report.json"
    out = run_pyhost(["run", "--mode", mode, "-j", workers, "--tasks", 2, "--json", report,
                      "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                     env={"VIRTUAL_ENV": str(VENV)}, cwd=tmp_path, timeout=300)
    for text in task_outputs(out.stdout, 2):
        assert re.search(r"^1 failed, 1 passed in [\d.]+s$", text, re.M), out.stdout + out.stderr
        assert "FAILED tests/test_x.py::test_double_is_wrong - assert 6 == 7" in text
    assert out.returncode == 1, out.stdout + out.stderr  # pytest's verdict: tests failed
    assert [task["exit_code"] for task in json.loads(report.read_text())["tasks"]] == [1, 1]
