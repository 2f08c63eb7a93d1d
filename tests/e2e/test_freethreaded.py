"""The free-threaded companion build/pyhost-ft (CPython 3.13t, --disable-gil).

Skipped when it was not built: .ci/setup-tests (or `pyhost setup freethreaded`) builds it when it
can build CPython 3.13t (not with PYHOST_SKIP_FREETHREADED=1). PYHOST_FT_BIN names another companion binary.
"""
import json
import os
import pathlib
import subprocess

import pytest

from pyhost_testing import REPO, SCRIPTS, pyhost_bin, run_pyhost

# Every module of the runtime package plus the built-in ones, imported one after the other:
# any of them declaring no Py_mod_gil (or needing the GIL) would turn the GIL back on.
IMPORT_ALL = """
import importlib, pkgutil, sys, warnings
warnings.simplefilter("error", RuntimeWarning)  # "The global interpreter lock (GIL) has been enabled"
import _pyhost, pyhost
names = ["_pyhost", "pyhost"]
try:
    import _pyhost_kernels
    names.append("_pyhost_kernels")
except ImportError:
    pass
needs = []
for info in pkgutil.walk_packages(pyhost.__path__, "pyhost."):
    try:
        importlib.import_module(info.name)
    except ModuleNotFoundError as exc:
        # A module of pyhost's that needs a package this interpreter lacks (pyhost.cuda: numpy
        # when no venv is active): pure Python, so it cannot turn the GIL on; say which.
        if (exc.name or "pyhost").partition(".")[0] == "pyhost":
            raise
        needs.append(f"{info.name} needs {exc.name}")
        continue
    names.append(info.name)
print(len(names), " ".join(names))
print("not imported:", needs)
print("gil", sys._is_gil_enabled())
"""


def build_dir() -> pathlib.Path:
    return pathlib.Path(pyhost_bin()).resolve().parent


def configured_ft_python() -> str:
    """PYHOST_FT_PYTHON of the build tree pyhost comes from ('' if none or unknown)."""
    cache = build_dir() / "CMakeCache.txt"
    if not cache.exists():
        return ""
    for line in cache.read_text().splitlines():
        if line.startswith("PYHOST_FT_PYTHON:"):
            return line.split("=", 1)[1].strip()
    return ""


def companion() -> str:
    named = os.environ.get("PYHOST_FT_BIN")
    if named is not None:
        return named
    return str(pathlib.Path(pyhost_bin()).parent / "pyhost-ft")


def have_companion() -> bool:
    path = companion()
    return bool(path) and os.access(path, os.X_OK)


needs_companion = pytest.mark.skipif(
    not have_companion(),
    reason="no free-threaded companion build/pyhost-ft: .ci/setup-tests (or `pyhost setup "
           "freethreaded`) builds it when it can build CPython 3.13t (PYHOST_SKIP_FREETHREADED=1 skips it); PYHOST_FT_BIN names one")


def pyhost_bin_is_free_threaded() -> bool:
    """True when PYHOST_BIN is itself the companion (the e2e suite run against pyhost-ft)."""
    out = run_pyhost(["info", "--json"], env={"PYHOST_FT_BIN": ""})
    return out.returncode == 0 and json.loads(out.stdout).get("free_threaded") is True


needs_default_pyhost = pytest.mark.skipif(
    pyhost_bin_is_free_threaded(),
    reason="PYHOST_BIN is the free-threaded build itself: no default build to compare with")


def run_ft(args, **kwargs):
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)  # .venv is the default ABI's: not for the companion
    return subprocess.run([companion(), *map(str, args)], capture_output=True, text=True,
                          timeout=kwargs.pop("timeout", 120), env=env, **kwargs)


def test_companion_exists_when_the_build_was_configured_for_it():
    ft_python = configured_ft_python()
    if not ft_python:
        pytest.skip("this build tree was configured without PYHOST_FT_PYTHON")
    assert os.access(build_dir() / "pyhost-ft", os.X_OK), (
        f"configured with PYHOST_FT_PYTHON={ft_python} but {build_dir() / 'pyhost-ft'} is missing")


@needs_companion
def test_companion_runs_without_the_gil():
    out = run_ft(["run", "-c", "import sys; print(sys._is_gil_enabled())"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == "False\n"
    assert "GIL" not in out.stderr  # no "the GIL has been enabled" warning either


@needs_companion
def test_importing_every_pyhost_module_keeps_the_gil_off():
    out = run_ft(["run", "-c", IMPORT_ALL])
    assert out.returncode == 0, out.stderr
    count, names = out.stdout.splitlines()[0].split(" ", 1)
    assert "_pyhost" in names.split() and "pyhost._host" in names.split()
    assert int(count) >= 8, names
    assert out.stdout.splitlines()[-1] == "gil False", out.stdout + out.stderr


@needs_companion
@needs_default_pyhost
def test_info_of_both_binaries():
    ft = json.loads(run_ft(["info", "--json"]).stdout)
    assert ft["free_threaded"] is True
    assert ft["freethreaded_companion"] is None
    assert ft["executable"].endswith("t") or "3.13t" in ft["executable"]
    doc = json.loads(run_pyhost(["info", "--json"], env={"PYHOST_FT_BIN": companion()}).stdout)
    assert doc["free_threaded"] is False
    comp = doc["freethreaded_companion"]
    assert comp["binary"] == str(pathlib.Path(companion()).absolute())
    assert comp["python"] == ft["python"] and comp["free_threaded"] is True
    text = run_pyhost(["info"], env={"PYHOST_FT_BIN": companion()}).stdout
    assert "python-ft" in text and ft["python"] in text


@needs_default_pyhost
def test_info_without_a_companion():
    doc = json.loads(run_pyhost(["info", "--json"], env={"PYHOST_FT_BIN": ""}).stdout)
    assert doc["freethreaded_companion"] is None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


needs_two_cores = pytest.mark.skipif(usable_cores() < 2,
                                     reason="fewer than 2 cores: threads cannot run at once")

# Two tasks of one threads-mode run (one interpreter) pass a counter back and forth for a second,
# each spinning in pure Python until it is its turn (no sleeps, no blocking calls). With a GIL and a
# switch interval longer than the run, the spinning task never lets the other one run: next to no
# moves. Without a GIL each move takes only the other thread being scheduled at all (not both
# running at the same instant), so this holds on a busy machine too.
PING_PONG = """
import builtins, sys, time, pyhost
sys.setswitchinterval(1000.0)
me = pyhost.task_id
box = builtins.__dict__.setdefault("_pyhost_ft_box", [0])
moves = 0
deadline = time.perf_counter() + 1.0
while time.perf_counter() < deadline:
    value = box[0]
    if value % 2 == me:
        box[0] = value + 1
        moves += 1
print(moves)
"""


def ping_pong(runner, tmp_path, name):
    script = tmp_path / f"{name}.py"
    script.write_text(PING_PONG)
    report = tmp_path / f"{name}.json"
    out = runner(["run", "--mode", "threads", "-j", "2", "--tasks", "2", "--json", report, script],
                 timeout=120)
    assert out.returncode == 0, out.stderr
    tasks = json.loads(report.read_text())["tasks"]
    overlap = min(t["end_s"] for t in tasks) - max(t["start_s"] for t in tasks)
    return sum(int(t["stdout"]) for t in tasks), overlap


@needs_companion
@needs_default_pyhost
@needs_two_cores
def test_threads_mode_tasks_run_at_the_same_time(tmp_path):
    moves_gil, _ = ping_pong(run_pyhost, tmp_path, "gil")
    moves_ft, overlap_ft = ping_pong(run_ft, tmp_path, "ft")
    assert moves_gil <= 4, "the control (build/pyhost, with the GIL) should hardly move"
    assert moves_ft >= 100, f"pyhost-ft: {moves_ft} moves (with the GIL: {moves_gil})"
    assert overlap_ft > 0.5  # both tasks ran through the same second


def threads_run(runner, tmp_path, name):
    report = tmp_path / f"{name}.json"
    out = runner(["run", "--mode", "threads", "-j", "2", "--tasks", "2", "--json", report,
                  SCRIPTS / "cpu_bound.py", "3000000"], timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(report.read_text())
    tasks = doc["tasks"]
    assert [t["status"] for t in tasks] == ["ok", "ok"]
    overlap = min(t["end_s"] for t in tasks) - max(t["start_s"] for t in tasks)
    return overlap, sum(t["cpu_s"] for t in tasks) / doc["wall_s"], doc


@needs_companion
@needs_two_cores
def test_threads_mode_cpu_time_over_wall_time(tmp_path):
    # Two pure-Python CPU-bound tasks, one thread each: with the GIL they take turns (CPU time /
    # wall time about 1), without it both run at once (about 2) -- given two idle cores.
    for attempt in range(3):
        overlap, ratio, doc = threads_run(run_ft, tmp_path, f"ft{attempt}")
        assert overlap > 0, doc
        if ratio > 1.5:
            return
    load = os.getloadavg()[0]
    if load > usable_cores() - 0.5:
        pytest.skip(f"machine busy (load {load:.1f} on {usable_cores()} cores): CPU time / wall "
                    f"time was {ratio:.2f}; test_threads_mode_tasks_run_at_the_same_time shows "
                    "that no GIL serialises them regardless")
    assert ratio > 1.5, doc


@needs_companion
def test_per_task_output_from_threads_running_at_once(tmp_path):
    # Two tasks, each with four threads writing at once: every line reaches its own task whole.
    # (One write() per line: print() writes the text and the newline in two calls, which threads
    # running at once interleave -- as with plain python3.13t's own sys.stdout.)
    script = tmp_path / "chatty.py"
    script.write_text(
        "import sys, threading, pyhost\n"
        "def say(k):\n"
        "    for i in range(300):\n"
        "        sys.stdout.write(f'task {pyhost.task_id} thread {k} line {i}\\n')\n"
        "ts = [threading.Thread(target=say, args=(k,)) for k in range(4)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n")
    report = tmp_path / "r.json"
    out = run_ft(["run", "--mode", "threads", "-j", "2", "--tasks", "2", "--json", report, script])
    assert out.returncode == 0, out.stderr
    for task in json.loads(report.read_text())["tasks"]:
        lines = task["stdout"].splitlines()
        want = [f"task {task['id']} thread {k} line {i}" for k in range(4) for i in range(300)]
        assert sorted(lines) == sorted(want)


# --- the `freethreaded` mode of the default binary (it runs the companion) -------------------

@needs_companion
def test_freethreaded_mode_runs_in_the_companion_without_the_gil(tmp_path):
    report = tmp_path / "r.json"
    result = run_pyhost(["run", "--mode", "freethreaded", "-j", "2", "--tasks", "3", "--json", report,
                         "-c", "import sys, pyhost; print(pyhost.mode, sys._is_gil_enabled())"])
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [f"[task {k}] freethreaded False" for k in range(3)]
    # One summary, from this pyhost (the companion's own is off).
    assert result.stderr.count("tasks ok") == 1, result.stderr
    doc = json.loads(report.read_text())
    assert doc["mode"] == "freethreaded" and doc["workers"] == 2
    assert [t["status"] for t in doc["tasks"]] == ["ok"] * 3
    assert doc["gil_enabled_by"] is None


@needs_companion
def test_freethreaded_mode_exit_codes_pass_through(tmp_path):
    one = run_pyhost(["run", "--mode", "freethreaded", "--tasks", "1", "-c", "raise SystemExit(7)"])
    assert one.returncode == 7, one.stderr
    several = run_pyhost(["run", "--mode", "freethreaded", "--tasks", "2", "-c",
                          "import pyhost, sys; sys.exit(pyhost.task_id)"])
    assert several.returncode == 1
    assert "task 1 failed: exit code 1" in several.stderr


def test_freethreaded_mode_without_a_companion_is_exit_status_3():
    result = run_pyhost(["run", "--mode", "freethreaded", "-c", "pass"], env={"PYHOST_FT_BIN": ""})
    assert result.returncode == 3
    assert "mode 'freethreaded' is not available" in result.stderr
    assert "`pyhost setup freethreaded` builds it" in result.stderr  # how to get it, in one line


def test_setup_freethreaded_runs_the_checkouts_script_on_this_build():
    # --dry-run: the command it would run (a real run builds CPython 3.13t: .ci/setup-tests does).
    pyhost = pathlib.Path(pyhost_bin()).resolve()
    result = run_pyhost(["setup", "freethreaded", "--dry-run"])
    assert result.returncode == 0, result.stderr
    script = REPO / ".ci" / "setup-freethreaded"
    assert result.stderr.strip() == f"pyhost setup freethreaded: bash {script} {pyhost.parent}"
    assert script.is_file()
    bad = run_pyhost(["setup", "gpu"])
    assert bad.returncode == 2 and "gpu not in {freethreaded,mpi}" in bad.stderr, bad.stderr


@needs_companion
def test_compare_shows_threads_without_a_gil_and_their_price(tmp_path):
    report = tmp_path / "c.json"
    result = run_pyhost(["compare", str(SCRIPTS / "cpu_bound.py"), "500000", "--modes",
                         "threads,freethreaded", "--workers", "1,2", "--repeat", "1", "--warmup",
                         "0", "--json", report], timeout=300)
    assert result.returncode == 0, result.stderr
    doc = json.loads(report.read_text())
    free = [r for r in doc["results"] if r["mode"] == "freethreaded"]
    assert {r["workers"] for r in free} == {1, 2}
    assert all(r["gil_wait"] == 0 for r in free)
    assert "threads without a GIL (free-threaded CPython)" in result.stdout
    assert "one thread without the GIL took" in result.stdout


def test_compare_lists_freethreaded_only_where_it_can_run(tmp_path):
    report = tmp_path / "c.json"
    result = run_pyhost(["compare", "-c"], timeout=30)  # usage error: no script
    assert result.returncode != 0
    result = run_pyhost(["compare", str(SCRIPTS / "cpu_bound.py"), "1000", "--workers", "1",
                         "--repeat", "1", "--warmup", "0", "--json", report], timeout=300,
                        env={"PYHOST_FT_BIN": ""})
    assert result.returncode == 0, result.stderr
    modes = {r["mode"] for r in json.loads(report.read_text())["results"]}
    assert modes == {"serial", "threads", "subinterpreters", "processes"}
