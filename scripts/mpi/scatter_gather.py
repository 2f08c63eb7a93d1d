"""Scatter then gather: rank 0 hands one number to each rank, each squares it, rank 0 collects."""
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
mine = comm.scatter([(i + 1) for i in range(size)] if rank == 0 else None, root=0)
squares = comm.gather(mine * mine, root=0)
if rank == 0:
    print(f"squares: {squares}")
