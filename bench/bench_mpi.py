"""Per-task dispatch over MPI: how long a worker waits for its next task under --engine mpi.

Runs trivial tasks (`-c pass`) with `mpirun -n R pyhost run --engine mpi --mode threads -j 1`
and, from the --json, takes each worker's gap between the end of one task and the start of its
next (the dispatch a worker sees: asking rank 0, the reply, the hand-over to the worker), per
rank, next to the same gap of a local run without MPI. Also the whole run's wall per task.

    python bench/bench_mpi.py [--ranks 2] [--tasks 2000] [--repeat 3]
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
PYHOST = os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}


def run(command, json_path):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=dict(os.environ, **MPI_ENV))
    return json.loads(pathlib.Path(json_path).read_text())


def gaps_by_rank(doc):
    by_worker = {}
    for task in doc["tasks"]:
        by_worker.setdefault((task.get("rank", 0), task["worker"]), []).append(task)
    gaps = {}
    for (rank, _), tasks in by_worker.items():
        tasks.sort(key=lambda t: t["start_s"])
        gaps.setdefault(rank, []).extend(
            (b["start_s"] - a["end_s"]) * 1e6 for a, b in zip(tasks, tasks[1:]))
    return gaps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("mpirun"):
        raise SystemExit("mpirun not found")
    out = pathlib.Path(tempfile.mkdtemp()) / "run.json"
    common = ["--mode", "threads", "-j", "1", "--tasks", str(args.tasks), "--output", "grouped",
              "--json", str(out), "-c", "pass"]
    for attempt in range(args.repeat):
        local = run([PYHOST, "run", *common], out)
        spread = run(["mpirun", "--oversubscribe", "-n", str(args.ranks), PYHOST, "run", "--engine",
                      "mpi", *common], out)
        local_gap = statistics.median(gaps_by_rank(local)[0])
        print(f"run {attempt + 1}: local (no MPI): wall {local['wall_s'] / args.tasks * 1e6:.1f} "
              f"us/task, worker gap median {local_gap:.1f} us")
        counts = {}
        for task in spread["tasks"]:
            counts[task["rank"]] = counts.get(task["rank"], 0) + 1
        for rank, gaps in sorted(gaps_by_rank(spread).items()):
            print(f"  --engine mpi, {args.ranks} ranks: rank {rank}: {counts[rank]} tasks, worker gap "
                  f"median {statistics.median(gaps):.1f} us, p90 "
                  f"{statistics.quantiles(gaps, n=10)[-1]:.1f} us")
        print(f"  --engine mpi wall: {spread['wall_s'] / args.tasks * 1e6:.1f} us/task "
              f"({args.ranks} workers in all)")


if __name__ == "__main__":
    main()
