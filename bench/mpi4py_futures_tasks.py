"""mpi4py.futures' per-task cost, the peer of `pyhost run --engine mpi` for trivial tasks: every
task submitted on its own (no chunks), then all awaited; prints the wall per task in microseconds.
Run by bench/bench_mpi.py: mpirun -n 2 python -m mpi4py.futures mpi4py_futures_tasks.py TASKS"""
import sys
import time

from mpi4py.futures import MPIPoolExecutor


def task(i):
    return i


if __name__ == "__main__":
    tasks = int(sys.argv[1])
    with MPIPoolExecutor() as pool:
        for future in [pool.submit(task, i) for i in range(100)]:  # the workers are up
            future.result()
        start = time.perf_counter()
        for future in [pool.submit(task, i) for i in range(tasks)]:
            future.result()
        print(f"{(time.perf_counter() - start) / tasks * 1e6:.2f}")
