"""`pyhost compare --python 3.13,3.13t`: each mode on each interpreter, side by side, and builds
registered by path (PYHOST_INTERPRETERS, --interpreter) joining it.

The 3.13t cases need the free-threaded companion build/pyhost-ft (skipped without it). Timing is
not asserted beyond what holds on a loaded 2-core machine: the structure of the reports, and that
threads on one GIL wait for it while free-threaded threads have none to wait for.
"""
import functools
import json
import os
import pathlib
import re
import shutil

import pytest

from pyhost_testing import SCRIPTS, pyhost_bin, run_pyhost
from test_freethreaded import companion, have_companion, needs_default_pyhost

needs_companion = pytest.mark.skipif(
    not have_companion(), reason="no free-threaded companion build/pyhost-ft to compare with")

STEPS = "1000000"  # cpu_bound.py's loop: ~0.3 s a task


@functools.cache
def names():
    """The names of this build's CPython and of its companion's ("3.13", "3.13t"), as info says."""
    info = json.loads(run_pyhost(["info", "--json"], env={"PYHOST_INTERPRETERS": ""},
                                 check=True).stdout)
    own, *others = [i["name"] for i in info["interpreters"]]
    return own, (others[0] if others else None)


def compare(tmp_path, *args, env=None, timeout=300):
    out = tmp_path / "report.json"
    html = tmp_path / "report.html"
    done = run_pyhost(["compare", SCRIPTS / "cpu_bound.py", STEPS, "--workers", "2", "--repeat",
                       "1", "--warmup", "0", "--json", out, "--html", html, *args],
                      env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), html.read_text(), done


def rows(doc):
    return {(r["python"], r["mode"], r["workers"]): r for r in doc["results"]}


def check_side_by_side(doc, html, done):
    own, ft = names()
    by = rows(doc)
    assert list(by) == [(own, "serial", 1), (ft, "serial", 1), (own, "threads", 2),
                        (ft, "threads", 2)]
    assert doc["interpreters"] == [own, ft]
    for (python, mode, _), r in by.items():
        assert r["free_threaded"] is (python == ft)
        assert sorted(t["task"] for t in r["timeline"]) == [0, 1]
    # Speedups against the first one's serial; the companion's serial has its own (its one-thread
    # time).
    assert by[(own, "serial", 1)]["speedup"] == 1
    serial_t = by[(ft, "serial", 1)]
    assert serial_t["speedup"] == pytest.approx(
        by[(own, "serial", 1)]["median_s"] / serial_t["median_s"])
    assert serial_t["efficiency"] is None
    # Threads on one GIL wait for it (about half the time); free-threaded threads never do.
    assert by[(own, "threads", 2)]["gil_wait"] > 0.2
    assert by[(ft, "threads", 2)]["gil_wait"] in (0, None)
    # The terminal table names the python of every row, and the explanations compare them.
    header = next(line for line in done.stdout.splitlines() if line.startswith("python"))
    assert header.split()[:3] == ["python", "mode", "workers"]
    assert re.search(rf"^{re.escape(ft)}\s+threads\s+2\s", done.stdout, re.M), done.stdout
    assert f"{ft} serial: one thread of {ft} took" in done.stdout
    assert f"{ft} against {own}: its fastest, {ft} " in done.stdout
    assert f"{ft} threads: " in done.stdout and "threads without a GIL" in done.stdout
    # One colour per interpreter in the HTML: in the legend, and in each one's timeline.
    legend = dict(re.findall(r'<li data-python="([^"]+)"><svg [^>]*><rect [^>]*fill="(#[0-9a-f]+)"',
                             html))
    assert set(legend) == {own, ft} and len(set(legend.values())) == 2
    for python, colour in legend.items():
        timeline = re.search(r'<svg class="timeline chart" data-mode="threads" data-workers="2" '
                             rf'data-python="{re.escape(python)}".*?</svg>', html, re.S)
        assert timeline and colour in timeline.group(0), python


@needs_companion
@needs_default_pyhost
def test_compare_runs_each_mode_on_each_interpreter(tmp_path):
    doc, html, done = compare(tmp_path, "--python", ",".join(names()), "--modes", "serial,threads")
    check_side_by_side(doc, html, done)


@needs_companion
@needs_default_pyhost
def test_a_registered_build_joins_the_compare(tmp_path):
    """pyhost-ft registered by path (no companion looked for) is the same 3.13t."""
    env = {"PYHOST_FT_BIN": "", "PYHOST_INTERPRETERS": os.pathsep.join(["", companion()])}
    info = json.loads(run_pyhost(["info", "--json"], env=env, check=True).stdout)
    assert [(i["name"], i["free_threaded"]) for i in info["interpreters"]] == [
        (names()[0], False), (names()[1], True)]
    assert os.path.samefile(info["interpreters"][1]["pyhost"], companion())
    assert info["freethreaded_companion"] is None
    doc, html, done = compare(tmp_path, "--python", ",".join(names()), "--modes", "serial,threads",
                              env=env)
    check_side_by_side(doc, html, done)


@needs_companion
@needs_default_pyhost
def test_freethreaded_is_left_out_when_threads_run_on_3_13t(tmp_path):
    doc, _, done = compare(tmp_path, "--python", ",".join(names()), "--modes",
                           "serial,freethreaded,threads")
    assert "freethreaded: left out: it is threads on a free-threaded CPython" in done.stderr
    assert {r["mode"] for r in doc["results"]} == {"serial", "threads"}


@needs_companion
@needs_default_pyhost
def test_one_interpreter_keeps_the_plain_table_and_names_the_companions_rows(tmp_path):
    doc, _, done = compare(tmp_path, "--modes", "serial,freethreaded")
    assert doc["interpreters"] == []
    assert [(r["python"], r["free_threaded"], r["mode"]) for r in doc["results"]] == [
        (names()[0], False, "serial"), (names()[1], True, "freethreaded")]
    assert done.stdout.splitlines()[2].split()[0] == "mode"


def test_an_unknown_interpreter_is_a_usage_error_listing_the_known_ones():
    done = run_pyhost(["compare", SCRIPTS / "cpu_bound.py", "--python", f"{names()[0]},2.7"])
    assert done.returncode == 2
    assert f"--python: unknown interpreter '2.7' (known here: {names()[0]}" in done.stderr
    assert "PYHOST_INTERPRETERS" in done.stderr


@pytest.mark.parametrize("command", [["info"], ["compare", SCRIPTS / "cpu_bound.py"]])
def test_a_registered_path_that_is_no_pyhost_is_a_usage_error_naming_it(tmp_path, command):
    missing = tmp_path / "nothing"
    done = run_pyhost([*command, "--interpreter", missing])
    assert done.returncode == 2, done.stdout
    assert f"'{missing}' is not a working pyhost build: no such file" in done.stderr
    # An executable that is no pyhost: it answers nothing pyhost can read.
    fake = tmp_path / "fake"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    done = run_pyhost(command, env={"PYHOST_INTERPRETERS": str(fake)})
    assert done.returncode == 2
    assert f"'{fake}' is not a working pyhost build: `info --json` gave no python" in done.stderr


def test_a_copy_of_a_listed_build_is_listed_once(tmp_path):
    """A symlink to this build is this build; a copy is the same CPython: left out, with a note."""
    link = tmp_path / "pyhost-link"
    link.symlink_to(pyhost_bin())
    copy = tmp_path / "pyhost-copy"
    shutil.copy(pyhost_bin(), copy)
    info = json.loads(run_pyhost(["info", "--json", "--interpreter", link, "--interpreter", copy],
                                 env={"PYHOST_FT_BIN": ""}, check=True).stdout)
    assert len(info["interpreters"]) == 1
    assert info["interpreter_notes"] == [
        f"{copy} left out: CPython {info['python']} is already listed as "
        f"{info['interpreters'][0]['name']} ({info['interpreters'][0]['pyhost']})"]


PY312_BUILD = pathlib.Path(pyhost_bin()).resolve().parent.parent / "build-py312" / "pyhost"


@pytest.mark.skipif(not PY312_BUILD.exists(),
                    reason="no pyhost built against CPython 3.12 in build-py312/ (.ci/test-py312)")
@needs_default_pyhost
def test_a_3_12_build_registered_by_path_joins_the_compare(tmp_path):
    own = names()[0]
    if own == "3.12":
        pytest.skip("PYHOST_BIN is the 3.12 build itself")
    doc, html, done = compare(tmp_path, "--python", f"{own},3.12", "--modes",
                              "serial,subinterpreters", "--interpreter", PY312_BUILD,
                              env={"PYHOST_FT_BIN": ""})
    by = rows(doc)
    assert list(by) == [(own, "serial", 1), ("3.12", "serial", 1),
                        (own, "subinterpreters", 2), ("3.12", "subinterpreters", 2)]
    assert not any(r["free_threaded"] for r in doc["results"])
    # The 3.12 build ran its own sub-interpreters, each with its own GIL, sampled there.
    sub = by[("3.12", "subinterpreters", 2)]
    assert sub["gil_sampled"] and sub["gil_wait"] < 0.2
    assert by[("3.12", "serial", 1)]["efficiency"] is None
    assert f"3.12 against {own}: its fastest, 3.12 " in done.stdout
    assert '<li data-python="3.12">' in html
