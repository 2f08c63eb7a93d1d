"""Runs until pyhost batch stops it, or until it is orphaned (its parent died), at most 60 s."""
import os
import pathlib
import sys
import time

parent = os.getppid()
pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))  # tells the test it started
deadline = time.monotonic() + 60
while os.getppid() == parent and time.monotonic() < deadline:
    time.sleep(0.05)
