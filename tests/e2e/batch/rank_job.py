"""A job for the `--engine mpi` tests: logs where it runs to runs.log, and on the rank named by
argv[1] (once: the file `killed` marks it) waits until argv[2] other jobs are done, then kills its
rank's pyhost (its parent) with SIGKILL."""
import os
import pathlib
import signal
import sys
import time

import pyhost

name = os.environ["PYHOST_BATCH_JOB"]
log = pathlib.Path("runs.log")


def append(line):
    with open(log, "a") as f:
        f.write(line + "\n")


append(f"start {name} {pyhost.rank}")
kill_rank, done_first = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (-1, 0)
if pyhost.rank == kill_rank and not pathlib.Path("killed").exists():
    deadline = time.monotonic() + 60
    while sum(line.startswith("done ") for line in log.read_text().splitlines()) < done_first:
        if time.monotonic() > deadline:
            sys.exit("the other jobs never finished")
        time.sleep(0.02)
    pathlib.Path("killed").write_text(name)
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(60)
time.sleep(0.2)
append(f"done {name} {pyhost.rank}")
