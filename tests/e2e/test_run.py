"""End-to-end tests of `pyhost run`: python-like behaviour, modes, output routing, JSON, errors."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from pyhost_testing import pyhost_bin, run_pyhost

MODES = ["serial", "threads", "subinterpreters"]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- one task in serial mode behaves like python -------------------------------------------

def test_script_argv_main_and_path0(tmp_path):
    script = write(tmp_path, "show.py", (
        "import sys, os\n"
        "print(sys.argv)\n"
        "print(__name__)\n"
        "print(sys.path[0] == os.path.dirname(os.path.realpath(__file__)))\n"
    ))
    out = run_pyhost(["run", script, "a", "--b", "-c"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [repr([str(script), "a", "--b", "-c"]), "__main__", "True"]


def test_sibling_module_import_from_script_dir(tmp_path):
    write(tmp_path, "helper.py", "VALUE = 42\n")
    script = write(tmp_path, "main.py", "import helper\nprint(helper.VALUE)\n")
    out = run_pyhost(["run", script], cwd="/")
    assert out.stdout == "42\n"


def test_dash_c_argv_and_path(tmp_path):
    out = run_pyhost(["run", "-c", "import sys; print(sys.argv, repr(sys.path[0]))", "x", "-y"])
    assert out.returncode == 0
    assert out.stdout == "['-c', 'x', '-y'] ''\n"


def test_dash_m_runs_module_as_main(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    write(pkg, "__init__.py", "")
    write(pkg, "tool.py", "import sys\nprint(__name__, sys.argv[1:])\n")
    out = run_pyhost(["run", "-m", "pkg.tool", "1", "2"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "__main__ ['1', '2']\n"


def test_options_before_target_only(tmp_path):
    # Words after the script belong to the script, even when they look like pyhost options.
    out = run_pyhost(["run", "--mode", "serial", "-c", "import sys; print(sys.argv[1:])",
                      "--mode", "threads", "-j2"])
    assert out.stdout == "['--mode', 'threads', '-j2']\n"


@pytest.mark.parametrize("code, expected_rc, expected_err", [
    ("raise SystemExit(7)", 7, ""),
    ("import sys; sys.exit()", 0, ""),
    ("raise SystemExit('bye')", 1, "bye\n"),
    ("1/0", 1, "ZeroDivisionError: division by zero"),
    ("raise KeyboardInterrupt", 130, "KeyboardInterrupt"),
])
def test_exit_codes(code, expected_rc, expected_err):
    out = run_pyhost(["run", "-c", code])
    assert out.returncode == expected_rc
    assert expected_err in out.stderr


def test_traceback_looks_like_python(tmp_path):
    script = write(tmp_path, "boom.py", "def f():\n    raise ValueError('bad')\nf()\n")
    out = run_pyhost(["run", script])
    assert out.returncode == 1
    assert out.stderr.startswith("Traceback (most recent call last):\n")
    assert f'File "{script}", line 3, in <module>' in out.stderr
    assert "_host.py" not in out.stderr  # the host's own frames are hidden
    assert out.stderr.rstrip().endswith("ValueError: bad")


def test_real_stdin_stdout_and_atexit(tmp_path):
    script = write(tmp_path, "echo.py", (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print(sys.stdin.readline().strip().upper())\n"
        "print(sys.stdout is sys.__stdout__)\n"
    ))
    out = run_pyhost(["run", script], input="hello\n")
    assert out.stdout == "HELLO\nTrue\natexit ran\n"


def test_sys_executable_behaves_like_python():
    code = ("import subprocess, sys; "
            "print(subprocess.run([sys.executable, '-c', 'print(6*7)'], capture_output=True,"
            " text=True).stdout.strip())")
    out = run_pyhost(["run", "-c", code])
    assert out.stdout == "42\n"


def test_pyhost_module_under_plain_python(python_exe):
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).parents[2] / "runtime"))
    out = subprocess.run([python_exe, "-c", "import pyhost; print(pyhost.mode, pyhost.task_id,"
                          " pyhost.worker_id, pyhost.workers, pyhost.tasks)"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout == "serial 0 0 1 1\n", out.stderr


# --- several tasks -------------------------------------------------------------------------

TASK_SCRIPT = (
    "import pyhost, sys\n"
    "seen = globals().get('seen', 0)\n"  # a fresh __main__ per task: never set before
    "print(f'task={pyhost.task_id} mode={pyhost.mode} workers={pyhost.workers} "
    "tasks={pyhost.tasks} seen={seen}')\n"
    "seen = 1\n"
    "print(f'err {pyhost.task_id}', file=sys.stderr)\n"
)


@pytest.mark.parametrize("mode", MODES)
def test_tasks_fresh_namespace_and_context(tmp_path, mode):
    script = write(tmp_path, "task.py", TASK_SCRIPT)
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "4", script])
    assert out.returncode == 0, out.stderr
    lines = sorted(out.stdout.splitlines())
    assert lines == [f"[task {k}] task={k} mode={mode} workers=2 tasks=4 seen=0" for k in range(4)]
    for k in range(4):
        assert f"[task {k}] err {k}\n" in out.stderr


@pytest.mark.parametrize("mode", MODES)
def test_json_results(tmp_path, mode):
    script = write(tmp_path, "task.py", (
        "import pyhost, sys\n"
        "print('out', pyhost.task_id)\n"
        "print('err', pyhost.task_id, file=sys.stderr)\n"
        "sys.exit(3 if pyhost.task_id == 1 else 0)\n"
    ))
    report = tmp_path / "r.json"
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "3", "--json", report, script])
    assert out.returncode == 1  # one task failed
    doc = json.loads(report.read_text())
    assert doc["mode"] == mode and doc["workers"] == 2
    assert doc["python"].startswith("3.")
    assert doc["wall_s"] > 0
    tasks = doc["tasks"]
    assert [t["id"] for t in tasks] == [0, 1, 2]
    assert [t["status"] for t in tasks] == ["ok", "failed", "ok"]
    assert [t["exit_code"] for t in tasks] == [0, 3, 0]
    for t in tasks:
        assert t["stdout"] == f"out {t['id']}\n"
        assert t["stderr"] == f"err {t['id']}\n"
        assert 0 <= t["start_s"] <= t["end_s"] <= doc["wall_s"] + 1e-6
        assert t["wall_s"] == pytest.approx(t["end_s"] - t["start_s"])
        assert t["worker"] in (0, 1)
        assert t["cpu_s"] >= 0


def test_json_single_task_keeps_real_streams(tmp_path):
    report = tmp_path / "r.json"
    out = run_pyhost(["run", "--json", report, "-c", "print('hi')"])
    assert out.stdout == "hi\n"  # untagged, as python
    doc = json.loads(report.read_text())
    assert doc["tasks"][0]["stdout"] == "hi\n" and doc["tasks"][0]["status"] == "ok"


@pytest.mark.parametrize("mode", MODES)
def test_lines_never_interleave(tmp_path, mode):
    # Each task writes long lines in many small pieces; every line must come out whole.
    script = write(tmp_path, "chatty.py", (
        "import pyhost, sys\n"
        "for i in range(200):\n"
        "    for ch in 'abcdefghij' * 5:\n"
        "        sys.stdout.write(ch)\n"
        "    sys.stdout.write(f' {pyhost.task_id}\\n')\n"
    ))
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "4", script])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 800
    for line in lines:
        tag, body = line.split("] ", 1)
        task = tag.removeprefix("[task ")
        assert body == "abcdefghij" * 5 + f" {task}"


def test_grouped_output_keeps_each_task_together(tmp_path):
    script = write(tmp_path, "lines.py", (
        "import pyhost, time\n"
        "for i in range(5):\n"
        "    print(pyhost.task_id, i)\n"
        "    time.sleep(0.001)\n"
    ))
    out = run_pyhost(["run", "--mode", "threads", "-j", "2", "--tasks", "3", "--output", "grouped",
                      script])
    lines = out.stdout.splitlines()
    assert len(lines) == 15
    blocks = [lines[i:i + 5] for i in range(0, 15, 5)]
    for block in blocks:
        task = block[0].split("]")[0].removeprefix("[task ")
        assert block == [f"[task {task}] {task} {i}" for i in range(5)]


def test_unterminated_last_line_gets_its_newline():
    out = run_pyhost(["run", "--mode", "threads", "-j", "2", "--tasks", "2", "-c",
                      "import sys; sys.stdout.write('no newline')"])
    assert sorted(out.stdout.splitlines()) == ["[task 0] no newline", "[task 1] no newline"]


def test_threads_started_by_a_task_are_joined_and_tagged():
    code = ("import threading, pyhost, time\n"
            "def late():\n"
            "    time.sleep(0.05)\n"
            "    print('late from', pyhost.task_id)\n"
            "threading.Thread(target=late).start()\n")
    for mode in MODES:
        out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "2", "-c", code])
        assert out.returncode == 0, out.stderr
        assert sorted(out.stdout.splitlines()) == ["[task 0] late from 0", "[task 1] late from 1"]


def test_subinterpreter_refuses_single_phase_extension_with_hint():
    out = run_pyhost(["run", "--mode", "subinterpreters", "-j", "1", "--tasks", "1", "-c",
                      "import _testsinglephase"])
    assert out.returncode == 1
    assert "module '_testsinglephase' cannot be imported in an own-GIL sub-interpreter" in out.stderr
    assert "--mode processes" in out.stderr


def test_subinterpreters_are_separate_interpreters(tmp_path):
    # Module state (here an attribute on sys) lives per interpreter: each sub-interpreter worker
    # counts only its own tasks, while threads share one interpreter and count all of them.
    code = ("import sys\n"
            "sys.shared = getattr(sys, 'shared', 0) + 1\n"
            "print(sys.shared)\n")
    for mode in ("subinterpreters", "threads"):
        report = tmp_path / f"{mode}.json"
        out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "6", "--json", report,
                          "-c", code])
        assert out.returncode == 0, out.stderr
        tasks = json.loads(report.read_text())["tasks"]
        if mode == "subinterpreters":
            for worker in {t["worker"] for t in tasks}:
                mine = sorted((t["start_s"], int(t["stdout"])) for t in tasks if t["worker"] == worker)
                assert [count for _, count in mine] == list(range(1, len(mine) + 1))
        else:
            assert sorted(int(t["stdout"]) for t in tasks) == list(range(1, 7))


# --- usage errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["run", "--mode", "warp", "-c", "pass"], "--mode"),
    (["run", "-j", "0", "-c", "pass"], "--workers"),
    (["run", "--tasks", "-1", "-c", "pass"], "--tasks"),
    (["run", "missing_script.py"], "can't open file 'missing_script.py'"),
    (["run"], "nothing to run"),
    (["run", "-c"], "argument expected for the -c option"),
    (["run", "--output", "mixed", "-c", "pass"], "--output"),
    (["frobnicate"], "frobnicate"),
])
def test_usage_errors_exit_2(args, message):
    out = run_pyhost(args)
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stdout == ""


def test_logging_goes_to_stderr_only():
    out = run_pyhost(["--log-level", "debug", "run", "-c", "print('x')"])
    assert out.stdout == "x\n"


def test_info_names_the_python():
    out = run_pyhost(["info", "--json"])
    doc = json.loads(out.stdout)
    assert doc["python"].startswith("3.")
    assert os.path.exists(doc["executable"])
    exe = run_pyhost(["info", "--python-exe"]).stdout.strip()
    assert exe == doc["executable"]
