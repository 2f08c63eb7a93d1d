"""`pyhost batch --engine mpi`: a pilot job under Open MPI's mpirun (3 ranks on this machine,
oversubscribed) and over two network-namespace "nodes". Rank 0 keeps the job graph and the
results; every rank runs attempts. Skipped without mpirun and libpyhost_mpi.so (and, for the
namespaces, without root)."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from pyhost_testing import REPO, pyhost_bin, run_pyhost
from test_batch import BATCH_DIR, by_name, load, results_with, wait_for
from test_mpi import MPI_ENV, MPIRUN, needs_mpi
from test_mpi_netns import AGENT, two_nodes


@pytest.fixture
def work(tmp_path):
    dest = tmp_path / "batch"
    shutil.copytree(BATCH_DIR, dest)
    return dest


def mpirun_batch(ranks, args, cwd, *, timeout=180, extra_env=None):
    env = dict(os.environ, **MPI_ENV, **(extra_env or {}))
    env.pop("PYTHONUNBUFFERED", None)
    command = [MPIRUN, "--oversubscribe", "-n", str(ranks), pyhost_bin(), "batch", *map(str, args),
               "--engine", "mpi"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


# What must be equal between a local and an MPI batch (not: where and when it ran).
JOB_FIELDS = ["name", "status", "reason", "attempts", "exit_code", "signal", "stdout", "stderr",
              "stdout_truncated", "tags", "needs", "fingerprint", "resumed", "interrupted"]
ATTEMPT_FIELDS = ["attempt", "status", "exit_code", "signal", "reason", "stdout_bytes",
                  "stderr_bytes"]


def comparable(doc, results_dir):
    jobs = []
    for job in doc["jobs"]:
        entry = {key: job.get(key) for key in JOB_FIELDS}
        entry["files"] = [None if job[k] is None else pathlib.Path(job[k]).relative_to(results_dir)
                          .as_posix() for k in ("stdout_file", "stderr_file")]
        entry["command"] = [word.replace(str(results_dir), "RESULTS") for word in job["command"]]
        entry["history"] = [{k: a[k] for k in ATTEMPT_FIELDS} for a in job["history"]]
        entry["run_status"] = None if job["run"] is None else [t["status"]
                                                                for t in job["run"]["tasks"]]
        jobs.append(entry)
    return {"jobs": jobs, "summary": doc["summary"], "complete": doc["complete"],
            "interrupted": doc["interrupted"]}


def test_engine_mpi_without_the_library_is_a_usage_error(work):
    done = run_pyhost(["batch", "main.toml", "--engine", "mpi"], cwd=work,
                      env={"PYHOST_MPI_LIBRARY": str(work / "missing.so")})
    assert done.returncode == 2, done.stderr
    assert "MPI is not available" in done.stderr
    assert not (work / ".pyhost-results").exists()


@pytest.mark.parametrize("key, message", [
    ("ranks = 2", "v.toml:4: error: job 'a': 'ranks' needs --engine mpi"),
    ('host = "n1"', "v.toml:4: error: job 'a': 'host' needs --engine mpi"),
    ("ranks = 0", "v.toml:4: error: job 'a': 'ranks' must be between 1 and 4096 (got 0)"),
    ("host = 3", "v.toml:4: error: job 'a': 'host' must be a string, not an integer"),
])
def test_ranks_and_host_are_checked_with_file_and_line(work, key, message):
    (work / "v.toml").write_text(f'[[job]]\nname = "a"\nscript = "ok.py"\n{key}\n')
    done = run_pyhost(["batch", "v.toml"], cwd=work)
    assert done.returncode == 2
    assert message in done.stderr, done.stderr


@needs_mpi
def test_one_rank_runs_every_job_and_says_so(work):
    done = mpirun_batch(1, ["resume.toml", "--json", "r.json"], work)
    assert done.returncode == 1, done.stderr
    assert "--engine mpi with one rank" in done.stderr
    jobs = by_name(load(work / "r.json"))
    assert [jobs[n]["status"] for n in "abc"] == ["ok", "failed", "skipped"]
    assert jobs["a"]["rank"] == 0


@needs_mpi
def test_the_main_job_file_gives_the_same_results_across_three_ranks(pyhost, work):
    local = pyhost(["batch", "main.toml", "--jobs", "5", "--json", "local.json",
                    "--results-dir", "local-results"], cwd=work)
    assert local.returncode == 1, local.stderr
    (work / "flaky.count").unlink()  # flaky fails its first attempt again

    started = time.monotonic()
    done = mpirun_batch(3, ["main.toml", "--jobs", "1", "--json", "r.json", "--junit", "j.xml"],
                        work)
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - started < 90
    doc = load(work / "r.json")
    local_doc = load(work / "local.json")
    assert comparable(doc, work / ".pyhost-results" / "main") == \
        comparable(local_doc, work / "local-results")
    assert "2 ok, 1 failed, 1 timeout, 1 skipped" in done.stdout
    assert (work / "j.xml").exists()

    assert (doc["engine"], doc["ranks"], len(doc["hosts"])) == ("mpi", 3, 3)
    jobs = by_name(doc)
    ran = [job for job in jobs.values() if job["attempts"] > 0]
    # Four jobs were ready at once and each rank runs one at a time: all three ranks got one.
    assert {job["rank"] for job in ran} == {0, 1, 2}
    for job in ran:
        assert job["host"] == doc["hosts"][job["rank"]]
        assert all(a["rank"] in (0, 1, 2) for a in job["history"])
    assert "rank" not in jobs["needs_fail"]  # never ran
    # Output made on another rank is in rank 0's results directory, as a local run leaves it.
    ok = jobs["ok"]
    assert pathlib.Path(ok["stdout_file"]).read_text() == "hello from ['--n', '3', 'two words']\n"
    assert not list((work / ".pyhost-results" / "main").glob("needs_fail.*"))


@needs_mpi
def test_gang_and_host_jobs(work):
    probe = ("import os, pyhost; print(os.environ['PYHOST_JOB_RANK'], "
             "os.environ['PYHOST_JOB_RANKS'], pyhost.rank, pyhost.host)")
    first = mpirun_batch(3, ["resume.toml", "--only", "a", "--json", "a.json"], work)
    assert first.returncode == 0, first.stderr
    host = load(work / "a.json")["hosts"][2]
    (work / "g.toml").write_text(
        f'[defaults]\ncode = "{probe}"\n\n'
        f'[[job]]\nname = "pair"\nranks = 2\n\n'
        f'[[job]]\nname = "all"\nranks = 3\nneeds = ["pair"]\n\n'
        f'[[job]]\nname = "pinned"\nhost = "{host}"\n\n'
        f'[[job]]\nname = "pair_fails"\nranks = 2\n'
        f'code = "import os, sys, time; os.environ[\'PYHOST_JOB_RANK\'] == \'1\' and sys.exit(5); '
        f'time.sleep(60)"\n')
    done = mpirun_batch(3, ["g.toml", "--jobs", "2", "--json", "g.json"], work)
    assert done.returncode == 1, done.stderr
    jobs = by_name(load(work / "g.json"))
    pair = jobs["pair"]
    assert pair["status"] == "ok" and len(set(pair["ranks"])) == 2
    assert pair["stdout"] == f"0 2 {pair['ranks'][0]} {pair['hosts'][0]}\n"
    member = pathlib.Path(pair["stdout_file"].replace(".stdout", ".member1.stdout"))
    assert member.read_text() == f"1 2 {pair['ranks'][1]} {pair['hosts'][1]}\n"
    assert jobs["all"]["status"] == "ok" and sorted(jobs["all"]["ranks"]) == [0, 1, 2]
    assert jobs["pinned"]["status"] == "ok" and jobs["pinned"]["host"] == host
    # A member that fails ends its gang at once: the other member is killed, not waited for.
    fails = jobs["pair_fails"]
    assert (fails["status"], fails["exit_code"], fails["reason"]) == ("failed", 5, "exit code 5")
    assert fails["wall_s"] < 30

    for key, message in [("ranks = 4", "g2.toml:4: error: job 'big': 'ranks = 4' but this batch "
                                       "has 3 ranks"),
                         ('host = "nowhere"', "g2.toml:4: error: job 'big': no rank runs on host "
                                              "'nowhere'")]:
        (work / "g2.toml").write_text(f'[[job]]\nname = "big"\nscript = "ok.py"\n{key}\n')
        bad = mpirun_batch(3, ["g2.toml"], work)
        assert bad.returncode == 2, bad.stderr
        assert message in bad.stderr, bad.stderr


def write_kill_file(work, jobs=9, kill_rank=2, done_first=3):
    (work / "k.toml").write_text(f'[defaults]\nscript = "rank_job.py"\nmode = "serial"\n'
                                 f'args = ["{kill_rank}", "{done_first}"]\n' +
                                 "".join(f'\n[[job]]\nname = "j{i}"\n' for i in range(jobs)))


def runs(work, what):
    return [line.split()[1] for line in (work / "runs.log").read_text().splitlines()
            if line.startswith(what + " ")]


def check_killed_then_resumed(work, lost, resume):
    assert lost.returncode != 0
    assert (work / "killed").exists()
    doc = load(work / "r.json")  # valid JSON of what had finished
    first_ok = [j["name"] for j in doc["jobs"] if j["status"] == "ok"]
    assert len(first_ok) >= 2, (doc, lost.stderr)
    assert set(first_ok) <= set(runs(work, "done"))
    assert doc["complete"] is False
    done = resume()
    assert done.returncode == 0, done.stderr
    jobs = by_name(load(work / "r.json"))
    assert sorted(jobs) == sorted(f"j{i}" for i in range(9))
    assert all(job["status"] == "ok" for job in jobs.values())
    assert all(jobs[name]["resumed"] for name in first_ok)
    started = runs(work, "start")
    assert all(started.count(name) == 1 for name in first_ok), started  # never run twice


@needs_mpi
def test_a_killed_rank_ends_the_job_and_resume_completes_the_rest(work):
    write_kill_file(work)
    started = time.monotonic()
    lost = mpirun_batch(3, ["k.toml", "--jobs", "1", "--json", "r.json"], work)
    assert time.monotonic() - started < 60
    assert "rank 2" in lost.stderr or "rank 2" in lost.stdout, lost.stderr
    check_killed_then_resumed(work, lost, lambda: mpirun_batch(
        3, ["k.toml", "--jobs", "1", "--resume", "r.json", "--json", "r.json"], work))


@needs_mpi
def test_a_silent_rank_is_lost_its_job_crashed_and_retried_elsewhere(work):
    # The first job that runs on rank 1 stops its pyhost (SIGSTOP): the launcher sees no death;
    # rank 0 takes the silent rank as lost, records that job crashed with the reason and retries
    # it on another rank; the batch goes on and ends with MPI_Abort (MPI_Finalize would wait for
    # the lost rank).
    code = ("import os, pathlib, pyhost, signal, time\\n"
            "if pyhost.rank == 1 and not pathlib.Path('stopped').exists():\\n"
            "    pathlib.Path('stopped').touch(); os.kill(os.getppid(), signal.SIGSTOP); "
            "time.sleep(60)\\n"
            "print('ran on', pyhost.rank)")
    (work / "s.toml").write_text(f'[defaults]\ncode = "{code}"\nretries = 1\nmode = "serial"\n' +
                                 "".join(f'\n[[job]]\nname = "j{i}"\n' for i in range(5)))
    done = mpirun_batch(3, ["s.toml", "--jobs", "1", "--json", "r.json"], work,
                        extra_env={"PYHOST_MPI_PEER_TIMEOUT": "3"}, timeout=120)
    assert done.returncode != 0  # MPI_Abort
    assert "rank 1" in done.stderr and "lost: no word from it for 3 s" in done.stderr, done.stderr
    doc = load(work / "r.json")
    assert doc["complete"] is True
    jobs = by_name(doc)
    assert all(job["status"] == "ok" for job in jobs.values()), jobs
    retried = [job for job in jobs.values() if job["attempts"] == 2]
    assert len(retried) == 1, jobs
    first, second = retried[0]["history"]
    assert (first["status"], first["rank"]) == ("crashed", 1)
    assert first["reason"] == f"rank 1 ({doc['hosts'][1]}) lost: no word from it for 3 s"
    assert second["rank"] != 1 and retried[0]["stdout"] == f"ran on {second['rank']}\n"
    assert all(job["rank"] != 1 for job in jobs.values() if job is not retried[0])


@needs_mpi
def test_sigterm_to_mpirun_keeps_the_finished_jobs_and_leaves_no_job_running(work):
    env = dict(os.environ, **MPI_ENV)
    env.pop("PYTHONUNBUFFERED", None)
    proc = subprocess.Popen([MPIRUN, "--oversubscribe", "-n", "2", pyhost_bin(), "batch",
                             "kill.toml", "--engine", "mpi", "--jobs", "1", "--json", "r.json"],
                            cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for(lambda: results_with(work / "r.json", "fast"), what="job 'fast' in r.json")
        wait_for(lambda: (work / "slow.started").exists(), what="job 'slow' to start")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, err
    jobs = by_name(load(work / "r.json"))
    assert jobs["fast"]["status"] == "ok"
    assert jobs.get("slow", {"status": "failed"})["status"] != "ok"
    # The job on the other rank stops with the batch: nothing runs on unrecorded.
    slow_pid = int((work / "slow.started").read_text())
    wait_for(lambda: not pathlib.Path(f"/proc/{slow_pid}").exists()
             or pathlib.Path(f"/proc/{slow_pid}/stat").read_text().split()[2] == "Z",
             timeout=30, what="the job 'slow' to stop")


# Two network-namespace "nodes", as test_mpi_netns.py makes them, under names of this module's.
NODES = {"10.78.0.1": f"pyhbat-{os.getpid()}-a", "10.78.0.2": f"pyhbat-{os.getpid()}-b"}
VETH = (f"pb{os.getpid()}a", f"pb{os.getpid()}b")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    yield from two_nodes(tmp_path_factory, NODES, VETH)


def batch_on_nodes(hosts, args, cwd, timeout=180):
    """mpirun in the first namespace, one rank on each node, TCP only."""
    env = dict(os.environ, **MPI_ENV, PYHOST_NETNS_HOSTS=str(hosts),
               OMPI_MCA_plm_rsh_agent=str(AGENT), OMPI_MCA_btl="tcp,self",
               OMPI_MCA_btl_tcp_if_include="10.78.0.0/24",
               OMPI_MCA_oob_tcp_if_include="10.78.0.0/24")
    env.pop("PYTHONUNBUFFERED", None)
    first = NODES["10.78.0.1"]
    # The agent runs the remote command through sh -c in no particular directory: cd first.
    command = ["ip", "netns", "exec", first, "unshare", "--uts", "sh", "-c",
               'hostname "$0"; exec "$@"', first, MPIRUN, "--host", ",".join(NODES), "-n",
               str(len(NODES)), "--wdir", str(cwd), pyhost_bin(), "batch", *map(str, args),
               "--engine", "mpi"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


def test_main_job_file_and_a_pinned_job_across_two_nodes(nodes, pyhost, work):
    local = pyhost(["batch", "main.toml", "--jobs", "5", "--json", "local.json",
                    "--results-dir", "local-results"], cwd=work)
    assert local.returncode == 1, local.stderr
    (work / "flaky.count").unlink()
    done = batch_on_nodes(nodes, ["main.toml", "--jobs", "2", "--json", "r.json"], work)
    assert done.returncode == 1, done.stderr
    doc = load(work / "r.json")
    assert comparable(doc, work / ".pyhost-results" / "main") == \
        comparable(load(work / "local.json"), work / "local-results")
    a, b = NODES.values()
    assert doc["hosts"] == [a, b]
    assert {(job["rank"], job["host"]) for job in doc["jobs"] if job["attempts"]} <= {(0, a), (1, b)}

    (work / "p.toml").write_text(
        f'[[job]]\nname = "on_b"\nhost = "{b}"\n'
        'code = "import socket, pyhost; print(pyhost.rank, socket.gethostname())"\n\n'
        '[[job]]\nname = "both"\nranks = 2\ncode = "import socket; print(socket.gethostname())"\n')
    pinned = batch_on_nodes(nodes, ["p.toml", "--json", "p.json"], work)
    assert pinned.returncode == 0, pinned.stderr
    jobs = by_name(load(work / "p.json"))
    assert jobs["on_b"]["stdout"] == f"1 {b}\n"
    assert jobs["both"]["hosts"] == [a, b] and jobs["both"]["stdout"] == f"{a}\n"


def test_a_lost_node_ends_the_job_and_resume_completes_it(nodes, work):
    write_kill_file(work, kill_rank=1, done_first=3)
    lost = batch_on_nodes(nodes, ["k.toml", "--jobs", "1", "--json", "r.json"], work)
    check_killed_then_resumed(work, lost, lambda: batch_on_nodes(
        nodes, ["k.toml", "--jobs", "1", "--resume", "r.json", "--json", "r.json"], work))
