"""pyhost.Executor(mode="mpi") against mpi4py.futures' MPICommExecutor: per-call cost of `map`
over a trivial function, on the same ranks of one machine, in one run.

    .venv/bin/python bench/bench_executor_mpi.py [--ranks 2] [--calls 20000] [--repeat 3]

Both run under `mpirun --oversubscribe -n R` (rank 0 submits, ranks 1..R-1 run the calls, one at
a time each): pyhost as `pyhost run --engine mpi` (Executor("mpi", workers=1), sub-interpreter
workers), mpi4py as `python` with `MPICommExecutor(MPI.COMM_WORLD, root=0)`. Figures: wall time
of `list(ex.map(identity, range(N), chunksize=C))` / N, best of --repeat, for chunksize=1 and for
pyhost's default (about 4 chunks per worker; mpi4py's default is 1, so it gets the same number
given explicitly). The inner runs print one JSON line each.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
PYHOST = os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


def identity(x):
    return x


def measure(ex, calls, repeat, chunksize):
    list(ex.map(identity, range(min(calls, 2000)), chunksize=chunksize))  # warm
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = list(ex.map(identity, range(calls), chunksize=chunksize))
        elapsed = time.perf_counter() - start
        assert result == list(range(calls))
        best = elapsed if best is None else min(best, elapsed)
    return best / calls * 1e6


def inner(kind, calls, repeat, serving):
    default_chunk = max(1, -(-calls // (4 * serving)))
    if kind == "pyhost":
        import pyhost

        with pyhost.Executor("mpi", workers=1) as ex:
            figures = {"default": measure(ex, calls, repeat, None),
                       "chunksize=1": measure(ex, calls // 10, repeat, 1)}
    else:
        from mpi4py import MPI
        from mpi4py.futures import MPICommExecutor

        with MPICommExecutor(MPI.COMM_WORLD, root=0) as ex:
            if ex is None:
                return
            figures = {"default": measure(ex, calls, repeat, default_chunk),
                       "chunksize=1": measure(ex, calls // 10, repeat, 1)}
    print(json.dumps({"kind": kind, "per_call_us": figures}), flush=True)


def outer(args):
    if not shutil.which("mpirun"):
        raise SystemExit("mpirun not found")
    env = dict(os.environ, **MPI_ENV)
    common = ["mpirun", "--oversubscribe", "-n", str(args.ranks)]
    tail = [str(pathlib.Path(__file__).resolve()), "--inner", "KIND", "--calls", str(args.calls),
            "--repeat", str(args.repeat), "--ranks", str(args.ranks)]
    runs = {"pyhost": common + [PYHOST, "run", "--engine", "mpi"] + tail,
            "mpi4py": common + [sys.executable] + tail}
    rows = {}
    for kind, command in runs.items():
        command = [kind if word == "KIND" else word for word in command]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"{kind} failed:\n{done.stderr}")
        line = [l for l in done.stdout.splitlines() if l.startswith("{")][-1]
        rows[kind] = json.loads(line)["per_call_us"]
    print(f"map(identity) per call, {args.ranks} ranks (rank 0 submits), {args.calls} calls "
          f"(chunksize=1: {args.calls // 10}), best of {args.repeat}")
    print(f"{'executor':<34}{'default chunksize':>20}{'chunksize=1':>14}")
    names = {"pyhost": 'pyhost.Executor("mpi")', "mpi4py": "mpi4py MPICommExecutor"}
    for kind, figures in rows.items():
        print(f"{names[kind]:<34}{figures['default']:>17.2f} us{figures['chunksize=1']:>11.2f} us")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--inner", choices=("pyhost", "mpi4py"))
    args = parser.parse_args()
    if args.inner:
        inner(args.inner, args.calls, args.repeat, args.ranks - 1)
    else:
        outer(args)


if __name__ == "__main__":
    main()
