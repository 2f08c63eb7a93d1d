"""Point-to-point: rank 0 sends a Python object to every other rank, each sends it back changed."""
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
if rank == 0:
    for dest in range(1, size):
        comm.send({"to": dest, "numbers": list(range(dest))}, dest=dest, tag=11)
    for source in range(1, size):
        reply = comm.recv(source=source, tag=22)
        print(f"rank 0 got {reply} back from rank {source}")
else:
    data = comm.recv(source=0, tag=11)
    comm.send({"from": rank, "sum": sum(data["numbers"])}, dest=0, tag=22)
