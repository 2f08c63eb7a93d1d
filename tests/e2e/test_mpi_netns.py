"""`--engine mpi` across two "nodes" over TCP: two network namespaces of this machine joined by a
veth pair, each with a host name of its own; Open MPI starts its daemon in the second through an
rsh agent (mpi/netns_agent.sh) that runs the command inside that namespace. Needs root (ip netns),
mpirun and libpyhost_mpi.so; skipped otherwise."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from pyhost_testing import pyhost_bin
from test_mpi import HAVE_LIBRARY, MPI_ENV, MPIRUN, PROBE, runs_per_task

AGENT = pathlib.Path(__file__).parent / "mpi" / "netns_agent.sh"
# Names of this test process's own: another checkout's suite may run at the same time (the
# addresses live inside the namespaces and do not collide).
NODES = {"10.77.0.1": f"pyhmpi-{os.getpid()}-a", "10.77.0.2": f"pyhmpi-{os.getpid()}-b"}
VETH = (f"ph{os.getpid()}a", f"ph{os.getpid()}b")


def _ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True)


def two_nodes(tmp_path_factory, nodes, veth):
    """Two "nodes": the network namespaces of `nodes` (address -> name) joined by the veth pair
    `veth`; yields a hosts file naming them and removes them afterwards. Skips without root,
    iproute2, unshare, mpirun or libpyhost_mpi.so."""
    if MPIRUN is None or not HAVE_LIBRARY:
        pytest.skip("needs mpirun and build/lib/libpyhost_mpi.so")
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("unshare"):
        pytest.skip("needs root, ip (iproute2) and unshare for network namespaces")
    (a, ip_a), (b, ip_b) = [(ns, ip) for ip, ns in nodes.items()]
    steps = [("netns", "add", a), ("netns", "add", b),
             ("link", "add", veth[0], "type", "veth", "peer", "name", veth[1]),
             ("link", "set", veth[0], "netns", a), ("link", "set", veth[1], "netns", b),
             ("-n", a, "addr", "add", f"{ip_a}/24", "dev", veth[0]),
             ("-n", b, "addr", "add", f"{ip_b}/24", "dev", veth[1]),
             ("-n", a, "link", "set", veth[0], "up"), ("-n", b, "link", "set", veth[1], "up"),
             ("-n", a, "link", "set", "lo", "up"), ("-n", b, "link", "set", "lo", "up")]
    for step in steps:
        done = _ip(*step)
        if done.returncode != 0:
            for ns in (a, b):
                _ip("netns", "del", ns)
            pytest.skip(f"cannot make network namespaces: ip {' '.join(step)}: {done.stderr}")
    hosts = tmp_path_factory.mktemp("netns") / "hosts"
    hosts.write_text("".join(f"{ip} {ns}\n" for ip, ns in nodes.items()))
    yield hosts
    for ns in (a, b):
        _ip("netns", "del", ns)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    yield from two_nodes(tmp_path_factory, NODES, VETH)


def mpirun_on_nodes(hosts, args, timeout=180):
    """mpirun in the first namespace, one rank on each node, TCP only."""
    env = dict(os.environ, **MPI_ENV, PYHOST_NETNS_HOSTS=str(hosts),
               OMPI_MCA_plm_rsh_agent=str(AGENT), OMPI_MCA_btl="tcp,self",
               OMPI_MCA_btl_tcp_if_include="10.77.0.0/24",
               OMPI_MCA_oob_tcp_if_include="10.77.0.0/24")
    first = NODES["10.77.0.1"]
    command = ["ip", "netns", "exec", first, "unshare", "--uts", "sh", "-c",
               'hostname "$0"; exec "$@"', first, MPIRUN, "--host", ",".join(NODES), "-n",
               str(len(NODES)), pyhost_bin(), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def test_tasks_run_once_across_two_nodes_over_tcp(nodes, tmp_path):
    out = tmp_path / "run.json"
    done = mpirun_on_nodes(nodes, ["run", "--engine", "mpi", "--mode", "threads", "-j", "2",
                                   "--tasks", "10", "--json", out, PROBE, tmp_path])
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert doc["ranks"] == 2
    assert all(t["status"] == "ok" for t in doc["tasks"])
    a, b = NODES.values()
    assert {(t["rank"], t["host"]) for t in doc["tasks"]} <= {(0, a), (1, b)}
    assert runs_per_task(tmp_path) == {k: 1 for k in range(10)}
    for task in doc["tasks"]:
        line = f"[task {task['id']}] task {task['id']} rank {task['rank']}/2 host {task['host']}"
        assert done.stdout.splitlines().count(line) == 1, done.stdout


def test_a_lost_node_ends_the_job_and_resume_completes_it(nodes, tmp_path):
    journal = tmp_path / "journal"
    args = ["run", "--engine", "mpi", "--mode", "threads", "-j", "1", "--tasks", "8",
            "--journal", journal]
    lost = mpirun_on_nodes(nodes, [*args, PROBE, tmp_path, "kill-rank=1"])
    assert lost.returncode != 0 and (tmp_path / "killed").exists()
    assert "rank 1" in lost.stderr, lost.stderr
    ok_first = {json.loads(line)["id"] for line in journal.read_text().splitlines()}
    out = tmp_path / "resumed.json"
    resumed = mpirun_on_nodes(nodes, [*args, "--resume", journal, "--json", out, PROBE, tmp_path,
                                      "kill-rank=1"])
    assert resumed.returncode == 0, resumed.stderr
    assert all(t["status"] == "ok" for t in json.loads(out.read_text())["tasks"])
    runs = runs_per_task(tmp_path)
    assert set(runs) == set(range(8)) and all(runs[k] == 1 for k in ok_first), runs
