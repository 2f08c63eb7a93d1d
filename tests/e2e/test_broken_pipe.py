"""End-to-end tests: a reader that goes away (`pyhost run ... | head -1`) ends pyhost as it ends
python: the script's writes raise BrokenPipeError, pyhost exits with a status (1, or 120 when its
own last words could not be written), never by SIGABRT (abort, core dump) or SIGPIPE.

Each script prints forever: only the reader going away can end it, so every run also shows that
pyhost stops when python would.
"""
import os
import subprocess

import pytest

from pyhost_testing import pyhost_bin

LOOP = "import sys\ni = 0\nwhile True:\n    print(i, file=sys.{stream})\n    i += 1\n"

MODES = [("serial", 1), ("serial", 2), ("threads", 2), ("subinterpreters", 2), ("processes", 1),
         ("processes", 2)]
ABORTED = ("terminate called", "Aborted", "core dumped", "Fatal Python error")


def read_one_line_then_leave(command, on_pipe, tmp_path):
    """Runs `command` with `on_pipe` ("stdout", "stderr" or "both") on a pipe, the other stream
    in a file; reads one line from the pipe and closes it. Returns (line, exit status, file)."""
    other_path = tmp_path / "other.txt"
    read_end, write_end = os.pipe()
    with open(other_path, "wb") as other:
        stdout = write_end if on_pipe in ("stdout", "both") else other
        stderr = write_end if on_pipe in ("stderr", "both") else other
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        line = reader.readline()
    try:
        status = process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"{command} went on after its reader went away")
    return line.decode(), status, other_path.read_text(errors="replace")


def script_for(tmp_path, stream):
    script = tmp_path / f"print_forever_{stream}.py"
    script.write_text(LOOP.format(stream="stderr" if stream == "stderr" else "stdout"))
    return script


@pytest.mark.parametrize("stream", ["stdout", "stderr", "both"])
def test_plain_python_for_comparison(tmp_path, stream, python_exe):
    """What python itself does, and pyhost's one serial task with it (the same, exactly)."""
    script = script_for(tmp_path, "stderr" if stream == "both" else stream)
    line, python_status, _ = read_one_line_then_leave([python_exe, script], stream, tmp_path)
    assert line == "0\n"
    line, status, other = read_one_line_then_leave([pyhost_bin(), "run", script], stream, tmp_path)
    assert line == "0\n"
    assert status == python_status == 1
    for text in ABORTED:
        assert text not in other


@pytest.mark.parametrize("mode,tasks", MODES)
@pytest.mark.parametrize("stream", ["stdout", "stderr", "both"])
def test_reader_that_goes_away_ends_the_run(tmp_path, mode, tasks, stream):
    script = script_for(tmp_path, "stderr" if stream == "both" else stream)
    command = [pyhost_bin(), "run", "--mode", mode, "-j", str(tasks), "--tasks", str(tasks), script]
    line, status, other = read_one_line_then_leave(command, stream, tmp_path)
    tag = "[task " if tasks > 1 else ""
    assert line.startswith(tag) and line.endswith(" 0\n" if tag else "0\n"), line
    for text in ABORTED:
        assert text not in other, other
    if stream == "stdout":
        # stderr still works: each task's BrokenPipeError, as python shows it; then the summary.
        assert status == 1, other
        assert "BrokenPipeError" in other
        if tasks > 1:
            assert f"pyhost: 0/{tasks} tasks ok" in other
    elif tasks > 1:
        # pyhost's summary could not be written: python's status for output lost at exit.
        assert status == 120
    else:
        assert status == 1  # the task's own status (its traceback could not be written)


@pytest.mark.parametrize("mode,tasks", MODES)
def test_the_reported_case_does_not_abort(tmp_path, mode, tasks):
    """`pyhost run --mode threads -j2 --tasks 2 -c '...1000 lines to stderr' 2>&1 | head -1`
    aborted (SIGABRT: the summary's write threw). The output may all fit in the pipe before the
    reader leaves, so the status is 0, 1 or 120; never a signal."""
    code = "import sys\nfor i in range(1000): print(i, file=sys.stderr)"
    command = [pyhost_bin(), "run", "--mode", mode, "-j", str(tasks), "--tasks", str(tasks), "-c", code]
    line, status, _ = read_one_line_then_leave(command, "both", tmp_path)
    assert line.endswith(" 0\n" if tasks > 1 else "0\n"), line
    assert status in (0, 1, 120), status
