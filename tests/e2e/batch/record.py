"""Appends the job's name to runs.log; fails while argv[1] names a file that does not exist."""
import os
import pathlib
import sys

with open("runs.log", "a") as log:
    log.write(os.environ["PYHOST_BATCH_JOB"] + "\n")
if len(sys.argv) > 1 and not pathlib.Path(sys.argv[1]).exists():
    print("not fixed yet", file=sys.stderr)
    sys.exit(1)
