"""pyhost.Executor(mode="mpi") under `mpirun --oversubscribe -n 3 pyhost run --engine mpi SCRIPT`
(no --tasks): rank 0 runs the script, ranks 1 and 2 serve its calls with local workers. The
seeds' programs of scripts/executor/ with PYHOST_EXECUTOR_MODE=mpi give their exact outputs;
exceptions, worker crashes, map and channels across ranks (tests/e2e/mpi/executor_probe.py).
Skipped without mpirun or libpyhost_mpi.so, as test_mpi.py is."""
import json
import pathlib

import pytest

from pyhost_testing import run_pyhost
from test_executor_scripts import EXPECTED, NAMES, SCRIPTS, expected_stdout
from test_mpi import mpirun, needs_mpi

PROBE = pathlib.Path(__file__).parent / "mpi" / "executor_probe.py"


def run_on_ranks(ranks, args, *, mode="mpi"):
    return mpirun(ranks, ["run", "--engine", "mpi", *args], timeout=240,
                  env={"PYHOST_EXECUTOR_MODE": mode})


def ok(done):
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning" not in done.stderr, done.stderr  # mode mpi really used its ranks
    return done.stdout


@needs_mpi
@pytest.mark.parametrize("script", NAMES)
def test_seed_programs_on_three_ranks(script):
    assert ok(run_on_ranks(3, [SCRIPTS / script])) == expected_stdout(script, "mpi", "mpi")


@needs_mpi
def test_without_tasks_the_script_runs_once_on_rank_0(tmp_path):
    out = tmp_path / "run.json"
    done = run_on_ranks(3, ["--json", out, "-c",
                            "import pyhost; print('main on rank', pyhost.rank, 'of', pyhost.ranks)"])
    assert ok(done) == "main on rank 0 of 3\n"
    doc = json.loads(out.read_text())
    assert doc["ranks"] == 3
    assert [(t["id"], t["rank"], t["status"]) for t in doc["tasks"]] == [(0, 0, "ok")]


@needs_mpi
def test_calls_run_on_the_serving_ranks_only():
    assert ok(run_on_ranks(3, [PROBE, "ranks"])) == (
        "workers: 4\nranks: [1, 2]\nrank 0 runs main: True\n")


@needs_mpi
@pytest.mark.parametrize("local", ["subinterpreters", "processes"])
def test_remote_exception_keeps_type_message_and_traceback(local):
    assert ok(run_on_ranks(3, [PROBE, "error", local])) == (
        "ValueError bad 7\ntraceback names the function: True\nexecutor still works: 81\n")


@needs_mpi
def test_a_worker_crash_on_a_remote_rank_fails_only_its_call():
    done = run_on_ranks(3, [PROBE, "crash", "processes"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("ok fine\ncrashed 7 None True\nok fine\ncrashed -11 11 True\nok fine\n"
                           "after: [0, 1, 4, 9, 16, 25]\n")


@needs_mpi
def test_map_with_chunksize_errors_and_timeout():
    squares = [x * x for x in range(20)]
    assert ok(run_on_ranks(3, [PROBE, "map"])) == (
        f"{squares}\n{squares}\n{sum(x * x for x in range(10000))}\nmap raises bad 1\n"
        "map timed out\n")


@needs_mpi
@pytest.mark.parametrize("local", ["subinterpreters", "processes"])
def test_channel_across_ranks_blocks_a_producer_when_full(local):
    assert ok(run_on_ranks(3, [PROBE, "channel", local])) == (
        "progress [0, 1, 2] full: True qsize: 2\n"
        "producer blocked: True\n"
        f"items {list(range(10))}\n"
        "producer ran on a remote rank: True\n"
        f"consumed {sum(range(50))} on a remote rank: True\n")


@needs_mpi
@pytest.mark.parametrize("local", ["subinterpreters", "processes"])
def test_what_a_remote_call_prints_comes_out_on_rank_0_before_its_result(local):
    assert ok(run_on_ranks(3, [PROBE, "output", local])) == "".join(
        f"output {i} from a worker\nresult {i}\n" for i in range(10))


@needs_mpi
def test_with_tasks_the_ranks_run_tasks_and_mode_mpi_falls_back():
    # --tasks K keeps the task-farm layout: no rank serves, so Executor("mpi") is local (noted).
    done = run_on_ranks(2, ["--tasks", "1", SCRIPTS / "pool_map.py"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXPECTED["pool_map.py"], (done.stdout, done.stderr)
    assert "pyhost.Executor('mpi'): no ranks serve it here" in done.stderr


def test_without_mpi_mode_mpi_falls_back_to_local_workers():
    done = run_pyhost(["run", SCRIPTS / "pool_map.py"], env={"PYHOST_EXECUTOR_MODE": "mpi"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXPECTED["pool_map.py"]
    assert done.stderr.count("RuntimeWarning: pyhost.Executor('mpi'): no ranks serve it here") == 1


# Across two network-namespace "nodes" over TCP (test_mpi_netns.py's fixture: root, ip, unshare):
# rank 0 on the first, the serving rank on the second.
from test_mpi_netns import mpirun_on_nodes, nodes  # noqa: E402,F401 - the fixture is used by name


def test_executor_across_two_nodes_over_tcp(nodes, monkeypatch):  # noqa: F811
    # Only rank 0 (the first node, where mpirun runs) reads PYHOST_EXECUTOR_MODE.
    monkeypatch.setenv("PYHOST_EXECUTOR_MODE", "mpi")
    for script in ("mp_queue.py", "ppe_submit.py"):
        done = mpirun_on_nodes(nodes, ["run", "--engine", "mpi", SCRIPTS / script])
        assert ok(done) == expected_stdout(script, "mpi", "mpi")
    done = mpirun_on_nodes(nodes, ["run", "--engine", "mpi", PROBE, "error", "processes"])
    assert ok(done) == "ValueError bad 7\ntraceback names the function: True\nexecutor still works: 81\n"
    done = mpirun_on_nodes(nodes, ["run", "--engine", "mpi", PROBE, "channel"])
    assert ok(done) == (
        "progress [0, 1, 2] full: True qsize: 2\nproducer blocked: True\n"
        f"items {list(range(10))}\nproducer ran on a remote rank: True\n"
        f"consumed {sum(range(50))} on a remote rank: True\n")
