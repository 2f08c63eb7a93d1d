"""An MPI rank that is not pyhost: it sends rank 0 a hello that is no JSON document, then waits
(the job's abort ends it). For test_engine_contract.py's malformed-message test."""
import sys
import time

from mpi4py import MPI

HELLO = 1  # host/mpi/mpi_run.cpp: Tag kHello
MPI.COMM_WORLD.Send([b"{this is not json", MPI.BYTE], dest=0, tag=HELLO)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:  # rank 0 must abort the job well before this
    time.sleep(0.05)
sys.exit(3)
