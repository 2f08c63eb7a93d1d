"""Hello from each rank (mpi4py). Run: mpirun -n 4 pyhost run scripts/mpi/hello.py"""
from mpi4py import MPI

comm = MPI.COMM_WORLD
print(f"hello from rank {comm.Get_rank()} of {comm.Get_size()} on {MPI.Get_processor_name()}")
