"""Broadcast: rank 0's dictionary reaches every rank."""
from mpi4py import MPI

comm = MPI.COMM_WORLD
data = {"key1": [7, 2.72, 2 + 3j], "key2": ("abc", "xyz")} if comm.Get_rank() == 0 else None
data = comm.bcast(data, root=0)
print(f"rank {comm.Get_rank()} has {data}")
