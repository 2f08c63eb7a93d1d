"""The engine contract: every backend honours what a plan asks (a feed of tasks from MPI ranks,
--journal/--resume) or the plan is refused up front; and a rank that gets a message out of shape
ends the job with a message instead of std::terminate."""
import json
import os
import pathlib
import subprocess

import pytest

from pyhost_testing import REPO, pyhost_bin, run_pyhost
from test_mpi import MPI_ENV, MPIRUN, needs_mpi

COMPANION = pathlib.Path(pyhost_bin()).parent / "pyhost-ft"
ROGUE = pathlib.Path(__file__).parent / "mpi" / "rogue_rank.py"
needs_companion = pytest.mark.skipif(not os.access(COMPANION, os.X_OK),
                                     reason="no free-threaded companion build/pyhost-ft")

RECORD = """
import pathlib, sys, pyhost
runs = pathlib.Path(sys.argv[1])
with open(runs / str(pyhost.task_id), "a") as f:
    f.write(f"{pyhost.rank}\\n")
"""


def mpi_env():
    env = dict(os.environ, **MPI_ENV)
    env.pop("PYHOST_FT_BIN", None)
    if (REPO / ".venv").exists():
        env["VIRTUAL_ENV"] = str(REPO / ".venv")
    return env


@needs_mpi
@needs_companion
def test_engine_mpi_runs_every_freethreaded_task_once(tmp_path):
    # Before: the companion got the plan's words, never this rank's tasks; every task printed,
    # and then "task k failed: not run: no rank took it", "0/4 tasks ok", exit 1.
    script = tmp_path / "record.py"
    script.write_text(RECORD)
    runs = tmp_path / "runs"
    runs.mkdir()
    out = tmp_path / "run.json"
    done = subprocess.run(
        [MPIRUN, "--oversubscribe", "-n", "2", pyhost_bin(), "run", "--engine", "mpi", "--mode",
         "freethreaded", "-j", "2", "--tasks", "4", "--json", str(out), str(script), str(runs)],
        capture_output=True, text=True, timeout=240, env=mpi_env())
    assert done.returncode == 0, done.stderr
    assert "not run" not in done.stderr
    doc = json.loads(out.read_text())
    assert doc["ranks"] == 2 and doc["mode"] == "freethreaded"
    assert [t["status"] for t in doc["tasks"]] == ["ok"] * 4
    assert sorted(int(p.name) for p in runs.iterdir()) == [0, 1, 2, 3]
    assert all(p.read_text().count("\n") == 1 for p in runs.iterdir()), "each task ran once"


@needs_companion
def test_resume_with_freethreaded_is_read_once_and_runs_only_the_rest(tmp_path):
    script = tmp_path / "flaky.py"
    script.write_text(
        "import pathlib, sys, pyhost\n"
        "marker = pathlib.Path(sys.argv[1]) / f'ran-{pyhost.task_id}'\n"
        "marker.write_text(marker.read_text() + 'x' if marker.exists() else 'x')\n"
        "if pyhost.task_id == 1 and not (pathlib.Path(sys.argv[1]) / 'fixed').exists():\n"
        "    sys.exit(5)\n")
    journal = tmp_path / "journal.jsonl"
    first = run_pyhost(["run", "--mode", "freethreaded", "-j", "2", "--tasks", "3", "--journal",
                        journal, script, tmp_path])
    assert first.returncode == 1, first.stderr
    (tmp_path / "fixed").write_text("")
    second = run_pyhost(["run", "--mode", "freethreaded", "-j", "2", "--tasks", "3", "--journal",
                         journal, "--resume", journal, script, tmp_path])
    assert second.returncode == 0, second.stderr
    # Before: "resuming ..." twice (the host and the companion both read the journal).
    assert second.stderr.count("resuming: 2 of 3 tasks already ok") == 1, second.stderr
    assert [(tmp_path / f"ran-{k}").read_text() for k in range(3)] == ["x", "xx", "x"]


@needs_mpi
def test_a_malformed_message_aborts_the_job_with_a_message(tmp_path):
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists() or subprocess.run([python, "-c", "import mpi4py"]).returncode != 0:
        pytest.skip("needs mpi4py in .venv")
    done = subprocess.run(
        [MPIRUN, "--oversubscribe", "-n", "1", pyhost_bin(), "run", "--engine", "mpi", "--tasks",
         "2", "-c", "pass", ":", "-n", "1", str(python), str(ROGUE)],
        capture_output=True, text=True, timeout=120, env=mpi_env())
    assert done.returncode != 0
    assert "pyhost: rank 0: malformed message (tag 1) from rank 1" in done.stderr, done.stderr
    assert "aborting the job" in done.stderr
    assert "terminate called" not in done.stderr
