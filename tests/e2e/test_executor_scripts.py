"""End-to-end: the seeds' parallel programs rewritten against pyhost.Executor / pyhost.Channel.

Every scripts/executor/*.py runs through `pyhost run` with PYHOST_EXECUTOR_MODE set to each of
subinterpreters, processes and threads, and under plain python (sys.executable with runtime/ and
build/python on PYTHONPATH), where process workers are the pyhost program's and sub-interpreter
workers come from the `_pyhost_subinterpreters` extension; without it, they fall back to threads
with a RuntimeWarning. Each run must exit 0 and print exactly the expected stdout; stderr must be
empty, or hold only the fallback warning (no extension). Scripts run from a temporary directory.
"""
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "executor"
RUNTIME = REPO / "runtime"
MODES = ("subinterpreters", "processes", "threads")
TIMEOUT = 60


def out(text):
    """Expected stdout, written as an indented block: dedent, drop the leading newline."""
    return textwrap.dedent(text).lstrip("\n")


def lines(*items):
    return "".join(f"{item}\n" for item in items)


def futures_threads_processes(mode, effective):
    return lines("Running with pyhost.Executor('threads')...",
                 *(f"Task {i} completed" for i in range(5)),
                 "",
                 f"Running with pyhost.Executor({mode!r})...",
                 *(f"Task {i} completed" for i in range(5)),
                 "",
                 "Total execution time measured: True")


def do_something_processes(mode, effective):
    shared = effective == "threads"  # only threads see the parent's lists themselves
    return lines("List processing complete.",
                 "calls: 4",
                 "results: [None, None, None, None]",
                 "every worker's list has 100000 items: True",
                 f"parent's lists filled in place (shared memory): {shared}",
                 f"parent's lists still empty (no shared memory): {not shared}",
                 "time measured: True")


# script -> expected stdout, or a function (requested mode, mode the executor really uses) -> it.
EXPECTED = {
    "pool_map.py": "Squared results: [1, 4, 9, 16, 25]\n",
    "pool_map_unclosed.py": "[1, 4, 9, 16]\n",
    "ppe_map_squares.py": out("""
        Original Data: [1, 2, 3, 4, 5, 6, 7, 8, 9]
        Squared Data: [1, 4, 9, 16, 25, 36, 49, 64, 81]
        """),
    "ppe_submit.py": out("""
        15
        [0, 2, 4, 6]
        [0, 1, 8, 27, 64]
        futures done: True
        """),
    "mp_queue.py": lines(*(f"Consumed: {i}" for i in range(5)),
                         "results: producer done 5",
                         "queue empty: True"),
    "mp_pipe.py": out("""
        Received: Hello from sender!
        Sender got the reply: b'got 18 characters'
        Receiver saw the sender close its end: True
        """),
    "queue_producer_consumer.py": lines(*(f"got an item: {i}" for i in range(10)),
                                        "consumer finished, queue empty: True",
                                        "items consumed: 10"),
    "condition_producer_consumer.py":
        lines(*(s for i in range(5) for s in (f"Produced: {i}", f"Consumed: {i}")),
              "Producer and consumer finished"),
    "futures_threads_processes.py": futures_threads_processes,
    "sum_of_squares.py": out("""
        333332833333500000
        matches closed form: True
        """),
    "do_something_processes.py": do_something_processes,
    "mp_manager.py": out("""
        Shared List: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
        Shared Dict: {'p3': 10, 'p4': 10}
        updates sent per call: [5, 5, 1, 1]
        """),
}
NAMES = sorted(EXPECTED)


def expected_stdout(script, mode, effective):
    expected = EXPECTED[script]
    return expected(mode, effective) if callable(expected) else expected


def environment(mode, **extra):
    env = dict(os.environ)
    env.pop("PYHOST_SHOW_TIME", None)
    env.pop("PYHOST_EXECUTOR_MODE", None)
    if mode is not None:
        env["PYHOST_EXECUTOR_MODE"] = mode
    env.update(extra)
    return env


def run(command, env, cwd):
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=cwd)


def pyhost_bin():
    return os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", NAMES)
def test_under_pyhost(tmp_path, script, mode):
    result = run([pyhost_bin(), "run", str(SCRIPTS / script)], environment(mode), tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected_stdout(script, mode, mode)
    assert result.stderr == ""


def test_default_mode_under_pyhost_is_subinterpreters(tmp_path):
    result = run([pyhost_bin(), "run", str(SCRIPTS / "futures_threads_processes.py")],
                 environment(None), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == futures_threads_processes("subinterpreters", "subinterpreters")
    assert result.stderr == ""


FALLBACK = re.compile(r"^\S.*: RuntimeWarning: pyhost\.Executor: not running under pyhost and no "
                      r"extension _pyhost_subinterpreters for this python \(.*\), so mode "
                      r"'(\w+)' falls back to threads \(run the script with `pyhost run` for \1\)$")


def without_fallback_warnings(stderr):
    """stderr less the fallback warnings (each a message line and the indented source line);
    returns (what is left, the modes the warnings name)."""
    left, named = [], []
    rows = stderr.splitlines()
    i = 0
    while i < len(rows):
        match = FALLBACK.match(rows[i])
        if match:
            named.append(match.group(1))
            i += 1
            if i < len(rows) and rows[i].startswith("  "):
                i += 1
            continue
        left.append(rows[i])
        i += 1
    return "\n".join(left), named


def plain_pythonpath(with_extension):
    """runtime/, and the build's build/python (the `_pyhost_subinterpreters` extension) or none
    of the PYTHONPATH entries that hold it."""
    def has_extension(entry):
        return any(pathlib.Path(entry).glob("_pyhost_subinterpreters*"))

    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if with_extension:
        entries = [str(RUNTIME), str(pathlib.Path(pyhost_bin()).resolve().parent / "python")]
        entries += inherited
    else:
        entries = [str(RUNTIME)] + [p for p in inherited if not has_extension(p)]
    return os.pathsep.join(entries)


@pytest.mark.parametrize("mode", [None, "processes", "threads"], ids=["default", "processes", "threads"])
@pytest.mark.parametrize("script", NAMES)
def test_under_plain_python(tmp_path, script, mode):
    """Plain python: process workers are the pyhost program's (PYHOST_EXE, as a pip-installed
    pyhost finds its own), channels included; sub-interpreter workers are real ones, through the
    `_pyhost_subinterpreters` extension the build puts in build/python."""
    env = environment(mode, PYTHONPATH=plain_pythonpath(True), PYHOST_EXE=pyhost_bin())
    result = run([sys.executable, str(SCRIPTS / script)], env, tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    requested = mode or "subinterpreters"
    assert result.stdout == expected_stdout(script, requested, requested)
    assert result.stderr == ""


@pytest.mark.parametrize("script", ["pool_map.py", "do_something_processes.py"])
def test_under_plain_python_without_the_extension(tmp_path, script):
    """An older build, or a python the extension was not built for: sub-interpreters fall back
    to threads, with a RuntimeWarning that says why."""
    env = environment(None, PYTHONPATH=plain_pythonpath(False), PYHOST_EXE=pyhost_bin())
    result = run([sys.executable, str(SCRIPTS / script)], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected_stdout(script, "subinterpreters", "threads")
    assert "no extension _pyhost_subinterpreters for this python" in result.stderr
    left, named = without_fallback_warnings(result.stderr)
    assert left == "" and named == ["subinterpreters"], result.stderr


def test_every_executor_script_is_covered():
    on_disk = {p.name for p in SCRIPTS.glob("*.py")}
    assert on_disk == set(EXPECTED)
    readme = (SCRIPTS / "README.md").read_text()
    for name in on_disk:
        assert f"`{name}`" in readme, name
        assert (REPO / "scripts" / "seeds" / name).exists(), name
