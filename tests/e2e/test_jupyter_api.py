"""pyhost.compare() / pyhost.run() / pyhost.info() and the %pyhost magics (docs/jupyter.md), in
this process: the API drives the pyhost program under test (PYHOST_BIN, given as PYHOST_EXE), and
the magics run in an in-process IPython shell. The notebook itself: test_notebook.py."""
import html
import os
import pathlib
import subprocess
import sys

import pytest

from pyhost_testing import REPO, pyhost_bin

if str(REPO / "runtime") not in sys.path:  # ctest puts it on PYTHONPATH; a plain pytest may not
    sys.path.append(str(REPO / "runtime"))

import pyhost  # noqa: E402
from pyhost import _driver  # noqa: E402

pytest.importorskip("IPython", reason="IPython is not installed (requirements-dev.txt)")

CPU_LOOP = "total = 0\nfor i in range(30_000):\n    total += i * i % 7\n"


@pytest.fixture(autouse=True)
def program(monkeypatch):
    monkeypatch.setenv("PYHOST_EXE", pyhost_bin())


@pytest.fixture(scope="module")
def quick_compare():
    os.environ["PYHOST_EXE"] = pyhost_bin()  # module scope: before the autouse fixture runs
    return pyhost.compare(CPU_LOOP, modes=["serial", "threads"], workers=2, repeat=1, warmup=0)


# ---- the command line the API builds -----------------------------------------------------------


def test_options_become_the_flags_the_cli_spells():
    words = _driver.option_words(dict(modes=["serial", "threads"], workers=[1, 2], repeat=3,
                                      kill_after=0.5, fresh_workers=True, sandbox_read=["/a", "/b"],
                                      timeout=None, sandbox_net=False, json=pathlib.Path("r.json")))
    assert words == ["--modes", "serial,threads", "--workers", "1,2", "--repeat", "3",
                     "--kill-after", "0.5", "--fresh-workers", "--sandbox-read", "/a",
                     "--sandbox-read", "/b", "--json", "r.json"]
    assert _driver.given_option(["--json", "a", "--html=b"], "--json") == "a"
    assert _driver.given_option(["--json", "a", "--html=b"], "--html") == "b"
    assert _driver.given_option(["--jsonx", "a"], "--json") is None


def test_the_program_is_found_through_pyhost_exe(monkeypatch, tmp_path):
    assert pyhost._binary.executable() == pyhost_bin()
    monkeypatch.setenv("PYHOST_EXE", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="PYHOST_EXE"):
        pyhost.run("print(1)")


def test_a_missing_script_path_is_named():
    with pytest.raises(FileNotFoundError, match="no script 'nowhere.py'"):
        pyhost.run("nowhere.py")


# ---- compare -------------------------------------------------------------------------------


def test_compare_returns_the_json_as_fields_and_items(quick_compare):
    r = quick_compare
    assert [(row.mode, row.workers) for row in r.results] == [("serial", 1), ("threads", 2)]
    assert r["results"][1]["workers"] == r.results[1].workers == 2
    assert r.repeat == 1 and r.json["warmup"] == 0 and set(r) >= {"results", "cores", "python"}
    assert r.results[0].speedup == 1.0 and r.results[1].speedup > 0
    with pytest.raises(AttributeError, match="no field 'nope'"):
        r.nope


def test_compare_html_is_the_report_in_an_iframe(quick_compare):
    r = quick_compare
    assert r.html.startswith("<!DOCTYPE html>") and '<svg id="speedup-chart"' in r.html
    shown = r._repr_html_()
    assert shown.startswith("<iframe ") and shown.endswith("</iframe>")
    # The report is only inside srcdoc: no tag of it (its <style>) reaches the notebook.
    srcdoc = shown.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert html.unescape(srcdoc) == r.html
    assert shown.count("<") == 2


def test_compare_text_and_repr(quick_compare):
    r = quick_compare
    assert str(r) == r.text and "GIL timelines" in r.text and "\x1b[" not in r.text
    lines = repr(r).splitlines()
    assert lines[0].startswith("<pyhost compare ") and "cell.py" in lines[0]
    assert lines[1].split()[:3] == ["mode", "workers", "median"]
    assert lines[2].split()[:2] == ["serial", "1"] and lines[3].split()[:2] == ["threads", "2"]


def test_compare_arguments_and_a_kept_report(tmp_path):
    script = tmp_path / "argv.py"
    script.write_text("import sys\nassert sys.argv[1:] == ['-n', '3'], sys.argv\n")
    mine = tmp_path / "mine.json"
    r = pyhost.compare(script, "-n", 3, modes="serial", workers=1, repeat=1, warmup=0, json=mine)
    assert r.args == ["-n", "3"] and r.script == str(script)
    assert mine.exists() and r.results[0].mode == "serial"


def test_compare_usage_error_raises_with_status_2():
    with pytest.raises(pyhost.PyhostError) as caught:
        pyhost.compare(CPU_LOOP, modes="serial,bogus", repeat=1)
    assert caught.value.returncode == 2
    assert "unknown mode 'bogus'" in caught.value.stderr and "unknown mode" in str(caught.value)
    assert caught.value.argv[1] == "compare"


# ---- run -----------------------------------------------------------------------------------


def test_run_returns_tasks_output_and_an_html_table():
    r = pyhost.run("import pyhost\nprint(f'<b>{pyhost.task_id}</b>')", mode="threads", workers=2,
                   tasks=3)
    assert r.mode == "threads" and r.workers == 2 and r.returncode == 0
    assert sorted(t.id for t in r.tasks) == [0, 1, 2]
    assert all(t.status == "ok" and t.stdout == f"<b>{t.id}</b>\n" for t in r.tasks)
    assert "[task 2] <b>2</b>" in r.output
    table = r._repr_html_()
    assert table.count("<tr>") == 4 and "&lt;b&gt;2&lt;/b&gt;" in table and "<b>2</b>" not in table
    assert repr(r).splitlines()[0] == (f"<pyhost run: threads, 2 workers: 3/3 tasks ok in "
                                      f"{r.wall_s:.3f} s, exit code 0>")


def test_a_failed_run_raises_with_its_status_stderr_and_results():
    with pytest.raises(pyhost.PyhostError) as caught:
        pyhost.run("import sys\nsys.stderr.write('boom\\n')\nsys.exit(3)")
    e = caught.value
    assert e.returncode == 3 and "boom" in e.stderr and "status 3" in str(e)
    assert e.result.tasks[0].status == "failed" and e.result.tasks[0].exit_code == 3


def test_an_unknown_option_is_a_usage_error():
    with pytest.raises(pyhost.PyhostError) as caught:
        pyhost.run("print(1)", no_such_option=1)
    assert caught.value.returncode == 2 and "--no-such-option" in caught.value.stderr


def test_code_imports_from_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "helper_here.py").write_text("VALUE = 42\n")
    monkeypatch.chdir(tmp_path)
    r = pyhost.run("import helper_here\nprint(helper_here.VALUE)", mode="subinterpreters",
                   workers=1, tasks=1)
    assert r.tasks[0].stdout == "42\n"


def test_streamed_output_arrives_while_the_run_goes_on(tmp_path, monkeypatch):
    """The task prints, then waits for a file that only the reader of that line creates: without
    streaming the line would come at the end, and the task would time out waiting."""
    go = tmp_path / "go"

    class Reader:
        seen = ""

        def write(self, text):
            self.seen += text
            if "first" in text:
                go.touch()

        def flush(self):
            pass

    reader = Reader()
    monkeypatch.setattr(sys, "stdout", reader)
    code = (f"import os, time\nprint('first', flush=True)\ndeadline = time.monotonic() + 60\n"
            f"while not os.path.exists({str(go)!r}):\n"
            f"    assert time.monotonic() < deadline, 'the first line was not streamed'\n"
            f"    time.sleep(0.01)\nprint('second')\n")
    r = pyhost.run(code, stream=True)
    assert reader.seen == "first\nsecond\n" == r.output


def test_info_says_where_freethreaded_runs():
    info = pyhost.info()
    assert info.python and info.cores >= 1
    assert info.freethreaded == bool(info.json.get("freethreaded_companion"))


def test_import_pyhost_and_its_api_do_not_import_ipython():
    code = ("import sys, pyhost\npyhost.compare, pyhost.run, pyhost.PyhostError\n"
            "assert 'IPython' not in sys.modules, 'IPython imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "runtime")})
    assert done.returncode == 0, done.stderr


# ---- the magics ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "pyhost")
    yield ip
    InteractiveShell.clear_instance()


def test_compare_magic_prints_the_table_and_returns_the_result(shell, capsys):
    r = shell.run_cell_magic("pyhost", "compare --modes serial,threads --workers 2 --repeat 1 "
                                       "--warmup 0", CPU_LOOP)
    assert isinstance(r, pyhost.CompareResult)
    assert [row.mode for row in r.results] == ["serial", "threads"] and r.repeat == 1
    out = capsys.readouterr().out
    assert "2 tasks per run, 1 run (+0 warmup)" in out and "GIL timelines" in out
    assert r._repr_html_().startswith("<iframe ")


def test_run_magic_streams_and_passes_script_arguments(shell, capsys):
    r = shell.run_cell_magic("pyhost", "run --mode subinterpreters -j 2 --tasks 2 -- 'a b' c",
                             "import sys, pyhost\nprint(pyhost.task_id, sys.argv[1:])")
    assert isinstance(r, pyhost.RunResult) and r.mode == "subinterpreters"
    out = capsys.readouterr().out
    assert "[task 0] 0 ['a b', 'c']" in out and "[task 1] 1 ['a b', 'c']" in out


def test_the_cell_magic_result_is_kept_in_underscore(shell):
    done = shell.run_cell("%%pyhost run --tasks 1\nprint('kept')\n")
    assert done.success and isinstance(done.result, pyhost.RunResult)
    assert shell.user_ns["_"] is done.result and done.result.tasks[0].stdout == "kept\n"


def test_info_magic_prints_pyhost_info(shell, capsys):
    shell.run_line_magic("pyhost", "info")
    out = capsys.readouterr().out
    assert out.startswith("pyhost ") and "python " in out and "cores" in out


@pytest.mark.parametrize("call", [
    ("line", "compare"), ("line", ""), ("cell", "frobnicate"), ("cell", "run 'unclosed"),
])
def test_magic_usage_errors(shell, call):
    from IPython.core.error import UsageError

    kind, line = call
    with pytest.raises(UsageError, match="usage: %%pyhost compare"):
        if kind == "line":
            shell.run_line_magic("pyhost", line)
        else:
            shell.run_cell_magic("pyhost", line, "print(1)")


def test_a_failing_cell_raises_pyhost_error(shell):
    with pytest.raises(pyhost.PyhostError) as caught:
        shell.run_cell_magic("pyhost", "run --mode bogus", "print(1)")
    assert caught.value.returncode == 2
