"""What ranks 1..R-1 run under `mpirun -n R pyhost run --engine mpi script.py` (no --tasks): they
serve the pyhost.Executor(mode="mpi") calls of rank 0's script until it ends."""
from .mpi import serve

if __name__ == "__main__":  # run as a module (-m); importing it serves nothing
    serve()
