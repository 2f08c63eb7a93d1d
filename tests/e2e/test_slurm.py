"""`pyhost run --engine mpi` under Slurm: tests/slurm/one_machine_cluster.sh makes a controller and
two slurmd "nodes" (network, mount and UTS namespaces of this machine), runs `srun --mpi=pmix -N2
pyhost run --engine mpi ...` and an `sbatch --array` job on them, and removes it all. Skipped (the
script's exit 77, with its reason) when not root or without Slurm, munge, iproute2 or the MPI
library."""
import os
import pathlib
import subprocess

import pytest

from pyhost_testing import pyhost_bin

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "slurm" / "one_machine_cluster.sh"


def test_srun_pmix_and_sbatch_array_on_a_two_node_cluster(tmp_path):
    # Names, subnet and ports of this test process's own: another checkout's suite may run at the
    # same time. The work directory must not be under /tmp, which each node replaces.
    pid = os.getpid()
    env = dict(os.environ, PYHOST_BIN=pyhost_bin(), PYHOST_SLURM_NAME=f"phs{pid % 10**7}",
               PYHOST_SLURM_DIR=f"/var/tmp/pyhost-slurm-{pid}",
               PYHOST_SLURM_NET=f"10.231.{100 + pid % 150}",
               PYHOST_SLURM_PORT=str(20000 + 2 * (pid % 10000)))
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600,
                          env=env)
    if done.returncode == 77:
        pytest.skip(done.stdout.strip().removeprefix("SKIP: "))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for check in ("each node has its own host name and /tmp",
                  "srun --mpi=pmix -N2 pyhost run --engine mpi --mode threads",
                  "srun --mpi=pmix -N2 pyhost run --engine mpi --mode processes",
                  "sbatch --array=0-3: 4 elements"):
        assert any(line.startswith("ok: ") and check in line for line in lines), done.stdout
