"""A task of `pyhost run --engine mpi`: says which task it is and where it runs.
Run: mpirun -n 2 pyhost run --engine mpi --mode threads -j 2 --tasks 8 scripts/mpi/tasks_across_ranks.py"""
import pyhost

print(f"task {pyhost.task_id} of {pyhost.tasks} on rank {pyhost.rank}/{pyhost.ranks} ({pyhost.host}), "
      f"worker {pyhost.worker_id}")
