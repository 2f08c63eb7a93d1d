"""A task for the --engine mpi tests: records that it ran, says where, and does what argv asks.
argv: WORKDIR [crash=K] [kill-rank=R] [stop-rank=R]"""
import os
import pathlib
import signal
import sys
import time

import pyhost

work = pathlib.Path(sys.argv[1])
options = dict(arg.split("=", 1) for arg in sys.argv[2:])
runs = work / "runs"
runs.mkdir(exist_ok=True)
with open(runs / str(pyhost.task_id), "a") as record:
    record.write(f"{pyhost.rank}\n")


def wait_for(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)


if int(options.get("crash", -1)) == pyhost.task_id:
    os.abort()

if int(options.get("stop-rank", -1)) == pyhost.rank:
    # The whole rank stops (SIGSTOP): the launcher sees no death, only rank 0's watch notices.
    os.kill(os.getpid(), signal.SIGSTOP)

if "kill-rank" in options:
    victim = int(options["kill-rank"])
    killed = work / "killed"
    if not killed.exists():
        if pyhost.rank == victim:
            # Once the other ranks have finished some tasks (the journal has them), this rank's
            # pyhost dies by SIGKILL in the middle of a task.
            (work / "victim-started").touch()
            journal = work / "journal"
            wait_for(lambda: journal.exists() and journal.read_text().count("\n") >= 3)
            killed.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            # Leave work for the victim: no rank finishes everything before it has started.
            wait_for(lambda: (work / "victim-started").exists())

print(f"task {pyhost.task_id} rank {pyhost.rank}/{pyhost.ranks} host {pyhost.host}")
