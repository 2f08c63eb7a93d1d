"""pyhost runs scripts in a venv made from its CPython, and CPython's own tests give the same verdict."""
import os
import pathlib
import subprocess

import pytest

from pyhost_testing import REPO, run_pyhost

VENV = REPO / ".venv"
needs_venv = pytest.mark.skipif(not (VENV / "bin" / "python").exists(), reason=".venv not set up (.ci/setup-tests)")


@needs_venv
def test_scripts_see_the_active_venv():
    out = run_pyhost(["run", "-c", "import sys, numpy; print(sys.prefix, sys.executable)"],
                     env={"VIRTUAL_ENV": str(VENV)})
    assert out.returncode == 0, out.stderr
    prefix, executable = out.stdout.split()
    assert pathlib.Path(prefix) == VENV
    assert executable == str(VENV / "bin" / "python")


@needs_venv
def test_numpy_in_a_subinterpreter_names_the_module_and_the_way_out():
    out = run_pyhost(["run", "--mode", "subinterpreters", "-j", "1", "--tasks", "1", "-c", "import numpy"],
                     env={"VIRTUAL_ENV": str(VENV)})
    assert out.returncode == 1
    assert "cannot be imported in an own-GIL sub-interpreter" in out.stderr
    assert "numpy" in out.stderr
    assert "--mode processes" in out.stderr


@needs_venv
def test_numpy_works_in_threads_mode():
    out = run_pyhost(["run", "--mode", "threads", "-j", "2", "--tasks", "2", "-c",
                      "import numpy; print(int(numpy.arange(10).sum()))"],
                     env={"VIRTUAL_ENV": str(VENV)})
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.splitlines()) == ["[task 0] 45", "[task 1] 45"]


def test_mismatched_venv_is_ignored_with_a_warning(tmp_path):
    fake = tmp_path / "venv"
    (fake / "bin").mkdir(parents=True)
    (fake / "pyvenv.cfg").write_text("home = /nowhere\nversion = 2.7.18\n")
    out = run_pyhost(["run", "-c", "import sys; print(sys.prefix)"], env={"VIRTUAL_ENV": str(fake)})
    assert out.returncode == 0
    assert str(fake) not in out.stdout
    assert "ignoring it" in out.stderr


@pytest.mark.parametrize("tests", [["test_json", "test_math"]])
def test_cpython_test_suite_same_verdict_as_python(python_exe, tests):
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    plain = subprocess.run([python_exe, "-m", "test", "-q", *tests], capture_output=True, text=True,
                           timeout=600, env=env)
    hosted = run_pyhost(["run", "-m", "test", "-q", *tests], timeout=600, env={"VIRTUAL_ENV": ""})
    assert hosted.returncode == plain.returncode, hosted.stdout[-2000:] + hosted.stderr[-2000:]
    verdict = [line for line in plain.stdout.splitlines() if line.startswith("Result:")]
    assert verdict and verdict[-1] in hosted.stdout
