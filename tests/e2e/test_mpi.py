"""`pyhost run --engine mpi` under Open MPI's mpirun on this machine (ranks oversubscribed), and
plain `mpirun pyhost run` with mpi4py. Skipped when mpirun (or libpyhost_mpi.so) is absent."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from pyhost_testing import REPO, SCRIPTS, pyhost_bin, run_pyhost

PROBE = pathlib.Path(__file__).parent / "mpi" / "probe.py"
MPIRUN = shutil.which("mpirun")
HAVE_LIBRARY = (pathlib.Path(pyhost_bin()).parent / "lib" / "libpyhost_mpi.so").exists()

needs_mpi = pytest.mark.skipif(
    MPIRUN is None or not HAVE_LIBRARY,
    reason="needs mpirun (openmpi-bin) and build/lib/libpyhost_mpi.so (libopenmpi-dev)")

MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_btl_vader_single_copy_mechanism": "none",  # containers without CMA
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}


def mpirun(ranks, args, *, timeout=180, env=None):
    env = dict(os.environ, **MPI_ENV, **(env or {}))
    # Unbuffered, print writes a line in pieces, and mpirun interleaves ranks by writes.
    env.pop("PYTHONUNBUFFERED", None)
    venv = REPO / ".venv"
    if venv.exists():
        env["VIRTUAL_ENV"] = str(venv)
    command = [MPIRUN, "--oversubscribe", "-n", str(ranks), pyhost_bin(), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def _have_mpi4py():
    python = REPO / ".venv" / "bin" / "python"
    return python.exists() and subprocess.run([python, "-c", "import mpi4py"]).returncode == 0


def tasks_of(json_path):
    return json.loads(pathlib.Path(json_path).read_text())


def runs_per_task(work):
    return {int(p.name): p.read_text().count("\n") for p in (work / "runs").iterdir()}


def test_engine_mpi_without_the_library_is_a_usage_error(tmp_path):
    done = run_pyhost(["run", "--engine", "mpi", "-c", "pass"],
                      env={"PYHOST_MPI_LIBRARY": str(tmp_path / "missing.so")})
    assert done.returncode == 2, done.stderr
    assert "MPI is not available" in done.stderr
    assert "`pyhost setup mpi` installs Open MPI and builds it" in done.stderr


def test_rank_attributes_without_mpi():
    done = run_pyhost(["run", "-c", "import pyhost, socket; "
                       "print(pyhost.rank, pyhost.ranks, pyhost.host == socket.gethostname())"])
    assert done.stdout.split() == ["0", "1", "True"], done.stderr


@needs_mpi
@pytest.mark.parametrize("schedule", ["dynamic", "static"])
def test_every_task_runs_once_across_three_ranks(tmp_path, schedule):
    out = tmp_path / "run.json"
    done = mpirun(3, ["run", "--engine", "mpi", "--schedule", schedule, "--mode", "threads",
                      "-j", "2", "--tasks", "17", "--json", out, PROBE, tmp_path])
    assert done.returncode == 0, done.stderr
    doc = tasks_of(out)
    assert doc["ranks"] == 3
    assert [t["id"] for t in doc["tasks"]] == list(range(17))
    assert all(t["status"] == "ok" for t in doc["tasks"])
    assert all(0 <= t["rank"] < 3 and t["host"] for t in doc["tasks"])
    assert runs_per_task(tmp_path) == {k: 1 for k in range(17)}
    if schedule == "static":
        assert [t["rank"] for t in doc["tasks"]] == [k % 3 for k in range(17)]
    # One stream on rank 0: every task's line once, whole, tagged with its task.
    lines = done.stdout.splitlines()
    for task in doc["tasks"]:
        expected = (f"[task {task['id']}] task {task['id']} rank {task['rank']}/3 "
                    f"host {task['host']}")
        assert lines.count(expected) == 1, (expected, done.stdout)
        assert task["stdout"] == expected.split("] ", 1)[1] + "\n"
    assert len(lines) == 17
    assert "17/17 tasks ok" in done.stderr and "3 ranks" in done.stderr


@needs_mpi
def test_another_ranks_output_reaches_rank_0_as_it_is_written(tmp_path):
    # Task 1 (rank 1) prints a line, then waits for a file that this test creates only once it
    # has read that line from mpirun's stdout (rank 0's stream).
    go = tmp_path / "go"
    code = ("import pathlib, time, pyhost\n"
            "if pyhost.task_id == 1:\n"
            "    print('ready', flush=True)\n"
            f"    go = pathlib.Path({str(go)!r})\n"
            "    deadline = time.monotonic() + 60\n"
            "    while not go.exists() and time.monotonic() < deadline: time.sleep(0.01)\n"
            "    print('saw go' if go.exists() else 'no go')\n")
    env = dict(os.environ, **MPI_ENV)
    with subprocess.Popen([MPIRUN, "--oversubscribe", "-n", "2", pyhost_bin(), "run", "--engine",
                           "mpi", "--schedule", "static", "--tasks", "2", "-c", code],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as proc:
        first = proc.stdout.readline()
        go.touch()
        rest, errors = proc.communicate(timeout=120)
    assert first == "[task 1] ready\n", errors
    assert rest == "[task 1] saw go\n", errors
    assert proc.returncode == 0, errors


@needs_mpi
def test_a_crash_costs_only_its_task(tmp_path):
    out = tmp_path / "run.json"
    done = mpirun(3, ["run", "--engine", "mpi", "--mode", "processes", "-j", "1", "--tasks", "7",
                      "--json", out, PROBE, tmp_path, "crash=4"])
    assert done.returncode == 1, done.stderr
    statuses = {t["id"]: t["status"] for t in tasks_of(out)["tasks"]}
    assert statuses == {k: ("crashed" if k == 4 else "ok") for k in range(7)}
    assert "task 4 crashed" in done.stderr


@needs_mpi
def test_one_rank_runs_everything_and_says_so(tmp_path):
    out = tmp_path / "run.json"
    done = mpirun(1, ["run", "--engine", "mpi", "--tasks", "3", "--json", out, PROBE, tmp_path])
    assert done.returncode == 0, done.stderr
    assert "one rank" in done.stderr
    assert {t["rank"] for t in tasks_of(out)["tasks"]} == {0}


@needs_mpi
def test_a_rank_with_another_script_is_refused(tmp_path):
    other = tmp_path / "other.py"
    other.write_text("print('not the same script')\n")
    common = ["run", "--engine", "mpi", "--tasks", "2"]
    env = dict(os.environ, **MPI_ENV)
    command = [MPIRUN, "--oversubscribe", "-n", "1", pyhost_bin(), *common, str(PROBE), str(tmp_path),
               ":", "-n", "1", pyhost_bin(), *common, str(other), str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert "rank 1" in done.stderr and "script or options differ" in done.stderr


@needs_mpi
def test_a_lost_rank_ends_the_job_and_resume_completes_the_rest(tmp_path):
    journal = tmp_path / "journal"
    args = ["run", "--engine", "mpi", "--mode", "threads", "-j", "1", "--tasks", "12",
            "--journal", journal]
    started = time.monotonic()
    lost = mpirun(3, [*args, PROBE, tmp_path, "kill-rank=2"])
    assert lost.returncode != 0
    assert (tmp_path / "killed").exists()
    assert re.search(r"rank 2\b", lost.stderr), lost.stderr
    assert time.monotonic() - started < 90
    finished_first = [json.loads(line) for line in journal.read_text().splitlines() if line]
    ok_first = {t["id"] for t in finished_first if t["status"] == "ok"}
    assert len(ok_first) >= 3 and all(t["rank"] != 2 for t in finished_first)

    out = tmp_path / "resumed.json"
    resumed = mpirun(3, [*args, "--resume", journal, "--json", out, PROBE, tmp_path, "kill-rank=2"])
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(ok_first)} of 12 tasks already ok" in resumed.stderr
    assert all(t["status"] == "ok" for t in tasks_of(out)["tasks"])
    runs = runs_per_task(tmp_path)
    assert set(runs) == set(range(12))
    assert all(runs[k] == 1 for k in ok_first), runs  # a finished task never runs twice


@needs_mpi
def test_a_silent_rank_is_taken_as_lost_by_rank_0(tmp_path):
    env_timeout = {"PYHOST_MPI_PEER_TIMEOUT": "2"}
    os.environ.update(env_timeout)
    try:
        started = time.monotonic()
        done = mpirun(3, ["run", "--engine", "mpi", "--tasks", "6", PROBE, tmp_path, "stop-rank=1"])
    finally:
        os.environ.pop("PYHOST_MPI_PEER_TIMEOUT")
    assert done.returncode != 0
    assert "pyhost: rank 1 lost: no word from it for 2 s" in done.stderr, done.stderr
    assert time.monotonic() - started < 60


@needs_mpi
def test_worker_processes_of_a_rank_do_not_inherit_the_launchers_variables():
    code = ("import os, pyhost; print(pyhost.rank, sorted(k for k in os.environ "
            "if k.startswith(('OMPI_', 'PMIX_', 'PMI_', 'PRTE_', 'HYDRA_'))))")
    done = mpirun(2, ["run", "--engine", "mpi", "--mode", "processes", "-j", "1", "--tasks", "4",
                      "-c", code])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and all(line.endswith(" []") for line in lines), done.stdout


@needs_mpi
@pytest.mark.skipif(not _have_mpi4py(), reason="mpi4py is not installed in .venv")
def test_a_worker_process_can_use_mpi_on_its_own():
    # Without the launcher's variables, MPI_Init in a worker makes a world of its own (singleton)
    # instead of taking itself for its rank and aborting the job.
    done = mpirun(2, ["run", "--engine", "mpi", "--mode", "processes", "-j", "1", "--tasks", "2",
                      "-c", "from mpi4py import MPI; print('size', MPI.COMM_WORLD.Get_size())"])
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["[task 0] size 1", "[task 1] size 1"]


@needs_mpi
def test_plain_mpirun_runs_the_script_on_every_rank(tmp_path):
    # One write per rank: mpirun interleaves the ranks' streams by what each write()s.
    done = mpirun(3, ["run", "-c", "import os; "
                      "os.write(1, f\"rank {os.environ['OMPI_COMM_WORLD_RANK']}\\n\".encode())"])
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split("\n")[:-1]) == ["rank 0", "rank 1", "rank 2"]


@needs_mpi
@pytest.mark.skipif(not _have_mpi4py(), reason="mpi4py is not installed in .venv")
@pytest.mark.parametrize("script, expected", [
    ("hello.py", r"hello from rank 2 of 3"),
    ("send_recv.py", r"rank 0 got \{'from': 2, 'sum': 1\} back from rank 2"),
    ("broadcast.py", r"rank 2 has \{'key1': \[7, 2.72, \(2\+3j\)\], 'key2': \('abc', 'xyz'\)\}"),
    ("scatter_gather.py", r"squares: \[1, 4, 9\]"),
    ("reduce.py", r"sum of ranks: \[3, 3, 3, 3\] \(allreduce 3, expected 3\)"),
])
def test_mpi4py_cookbook_scripts_under_mpirun(script, expected):
    done = mpirun(3, ["run", SCRIPTS / "mpi" / script])
    assert done.returncode == 0, done.stderr
    assert re.search(expected, done.stdout), done.stdout


def test_journal_and_resume_without_mpi(tmp_path):
    script = tmp_path / "flaky.py"
    script.write_text(
        "import pathlib, sys, pyhost\n"
        "work = pathlib.Path(sys.argv[1])\n"
        "with open(work / f'run-{pyhost.task_id}', 'a') as f: f.write('x')\n"
        "print('task', pyhost.task_id)\n"
        "if pyhost.task_id == 2 and not (work / 'fixed').exists(): sys.exit(3)\n")
    journal = tmp_path / "journal"
    first = run_pyhost(["run", "--mode", "threads", "-j", "2", "--tasks", "5", "--journal",
                        journal, script, tmp_path])
    assert first.returncode == 1
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == list(range(5))
    assert {r["id"]: r["status"] for r in records}[2] == "failed"
    assert all(r["stdout"] == f"task {r['id']}\n" for r in records)

    (tmp_path / "fixed").touch()
    out = tmp_path / "run.json"
    second = run_pyhost(["run", "--mode", "threads", "-j", "2", "--tasks", "5", "--journal",
                         journal, "--resume", journal, "--json", out, script, tmp_path])
    assert second.returncode == 0, second.stderr
    assert "4 of 5 tasks already ok" in second.stderr
    assert second.stdout == "[task 2] task 2\n"
    assert [t["status"] for t in tasks_of(out)["tasks"]] == ["ok"] * 5
    assert {k: (tmp_path / f"run-{k}").read_text() for k in range(5)} == {
        0: "x", 1: "x", 2: "xx", 3: "x", 4: "x"}


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_the_pyhost_binary_does_not_link_mpi():
    linked = subprocess.run(["ldd", pyhost_bin()], capture_output=True, text=True).stdout
    assert "libmpi" not in linked and "libmpich" not in linked, linked
