"""Reduce with NumPy buffers: the element-wise sum of every rank's array arrives at rank 0."""
import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
send = np.full(4, rank, dtype="i")
total = np.empty(4, dtype="i") if rank == 0 else None
comm.Reduce(send, total, op=MPI.SUM, root=0)
everyone = comm.allreduce(rank, op=MPI.SUM)
if rank == 0:
    print(f"sum of ranks: {total.tolist()} (allreduce {everyone}, expected {size * (size - 1) // 2})")
