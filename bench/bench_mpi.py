"""`pyhost run --engine mpi` against raw MPI and mpi4py.futures, in one run:

1. Per-task dispatch, trivial tasks (`-c pass`), no batching, 2 ranks x 1 worker (`--mode threads
   -j 1`): on one node (shared memory) and between two network namespaces (TCP). From --json, per
   worker, the gap between the end of one task and the start of its next (what a worker waits for
   its next task), per rank, and the wall per task; next to the same run without MPI, a raw MPI
   ping-pong round trip (bench/mpi_pingpong.c) and mpi4py.futures' wall per task
   (bench/mpi4py_futures_tasks.py: 1 worker, every task submitted on its own).
2. Efficiency on two simulated nodes (namespaces, 1 rank x 1 worker each) for 10 ms CPU-bound
   tasks: throughput against the same machine's local-only run with 2 workers (per core: both
   use the 2 cores).
3. Start-up: `mpirun -n 2 pyhost run --engine mpi --tasks 2 -c pass` against `mpirun -n 2 true`
   and `python -c pass` (target: at most the launcher + 50 ms + the interpreter's start).

    python bench/bench_mpi.py [--tasks 2000] [--repeat 3] [--no-netns]

The namespaces need root and iproute2 (as tests/e2e/test_mpi_netns.py); without them only the
one-node figures are taken.
"""
import argparse
import contextlib
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
PYHOST = os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))
AGENT = REPO / "tests" / "e2e" / "mpi" / "netns_agent.sh"
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
SPIN_10MS = ("import time\nend = time.thread_time() + 0.01\n"
             "while time.thread_time() < end: pass")


class OneNode:
    name = "one node (shared memory)"
    env = {}

    def mpirun(self, argv):
        return ["mpirun", "--oversubscribe", "-n", "2", *map(str, argv)]


class TwoNamespaces:
    """Two network namespaces joined by a veth pair; mpirun in the first, one rank in each."""
    name = "two namespaces (TCP)"

    def __init__(self, work):
        pid = os.getpid()
        self.nodes = {"10.78.0.1": f"phbench-{pid}-a", "10.78.0.2": f"phbench-{pid}-b"}
        self.veth = (f"phb{pid}a", f"phb{pid}b")
        hosts = pathlib.Path(work) / "hosts"
        hosts.write_text("".join(f"{ip} {ns}\n" for ip, ns in self.nodes.items()))
        self.env = {"PYHOST_NETNS_HOSTS": str(hosts), "OMPI_MCA_plm_rsh_agent": str(AGENT),
                    "OMPI_MCA_btl": "tcp,self", "OMPI_MCA_btl_tcp_if_include": "10.78.0.0/24",
                    "OMPI_MCA_oob_tcp_if_include": "10.78.0.0/24",
                    # Both "nodes" share this machine's cores: a rank that spins in MPI_Recv
                    # (Open MPI's default with a slot per rank) would starve its peer (ping-pong
                    # round trips of ~24 ms here instead of ~23 us).
                    "OMPI_MCA_mpi_yield_when_idle": "1",
                    # Each "node" would bind its rank to its first core: both to core 0 here.
                    "OMPI_MCA_hwloc_base_binding_policy": "none"}

    def __enter__(self):
        (ip_a, a), (ip_b, b) = self.nodes.items()
        for step in [("netns", "add", a), ("netns", "add", b),
                     ("link", "add", self.veth[0], "type", "veth", "peer", "name", self.veth[1]),
                     ("link", "set", self.veth[0], "netns", a),
                     ("link", "set", self.veth[1], "netns", b),
                     ("-n", a, "addr", "add", f"{ip_a}/24", "dev", self.veth[0]),
                     ("-n", b, "addr", "add", f"{ip_b}/24", "dev", self.veth[1]),
                     ("-n", a, "link", "set", self.veth[0], "up"),
                     ("-n", b, "link", "set", self.veth[1], "up"),
                     ("-n", a, "link", "set", "lo", "up"), ("-n", b, "link", "set", "lo", "up")]:
            subprocess.run(["ip", *step], check=True, capture_output=True)
        return self

    def __exit__(self, *exc):
        for ns in self.nodes.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def mpirun(self, argv):
        first = next(iter(self.nodes.values()))
        return ["ip", "netns", "exec", first, "unshare", "--uts", "sh", "-c",
                'hostname "$0"; exec "$@"', first, "mpirun", "--host", ",".join(self.nodes),
                "-n", "2", *map(str, argv)]


def run(command, env=None, json_path=None):
    done = subprocess.run(command, capture_output=True, text=True,
                          env=dict(os.environ, **MPI_ENV, **(env or {})))
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return json.loads(pathlib.Path(json_path).read_text()) if json_path else done.stdout


def timed(command, env=None):
    start = time.perf_counter()
    run(command, env)
    return (time.perf_counter() - start) * 1e3


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


def dispatch(where, work, args, pingpong, python):
    out = work / "run.json"
    common = ["--mode", "threads", "-j", "1", "--tasks", str(args.tasks), "--output", "grouped",
              "--json", out, "-c", "pass"]
    print(f"\n## Dispatch, {where.name}: {args.tasks} tasks of `-c pass`, 2 ranks x 1 worker")
    for attempt in range(args.repeat):
        trip, trip90 = run(where.mpirun([pingpong, 20000]), where.env).split()
        futures = run(where.mpirun([python, "-m", "mpi4py.futures",
                                    REPO / "bench" / "mpi4py_futures_tasks.py", args.tasks]),
                      where.env).strip()
        spread = run(where.mpirun([PYHOST, "run", "--engine", "mpi", *common]), where.env, out)
        counts = {}
        for task in spread["tasks"]:
            counts[task["rank"]] = counts.get(task["rank"], 0) + 1
        print(f"run {attempt + 1}: raw MPI ping-pong round trip median {trip} us (p90 {trip90}); "
              f"mpi4py.futures {futures} us/task (1 worker)")
        for rank, gaps in sorted(gaps_by_rank(spread).items()):
            print(f"  pyhost --engine mpi rank {rank}: {counts[rank]} tasks, worker gap median "
                  f"{statistics.median(gaps):.1f} us, p90 {statistics.quantiles(gaps, n=10)[-1]:.1f}"
                  " us")
        print(f"  pyhost --engine mpi wall: {spread['wall_s'] / args.tasks * 1e6:.1f} us/task "
              "(2 workers in all)")


def efficiency(where, work, args):
    out = work / "run.json"
    tasks = args.cpu_tasks
    common = ["--mode", "processes", "--tasks", str(tasks), "--output", "grouped", "--json", out,
              "-c", SPIN_10MS]
    print(f"\n## Efficiency, {where.name}: {tasks} tasks of 10 ms CPU (thread_time), "
          "processes mode; local -j 2 vs 2 ranks x -j 1")
    ratios = []
    for attempt in range(args.repeat):
        local = run([PYHOST, "run", "-j", "2", *common], None, out)
        spread = run(where.mpirun([PYHOST, "run", "--engine", "mpi", "-j", "1", *common]),
                     where.env, out)
        assert all(t["status"] == "ok" for t in local["tasks"] + spread["tasks"])
        ratio = local["wall_s"] / spread["wall_s"]
        ratios.append(ratio)
        print(f"run {attempt + 1}: local {tasks / local['wall_s']:.1f} tasks/s, "
              f"--engine mpi {tasks / spread['wall_s']:.1f} tasks/s: {ratio * 100:.1f} % "
              f"(tasks per rank {sorted(set((t['rank'], t['host']) for t in spread['tasks']))})")
    print(f"efficiency median {statistics.median(ratios) * 100:.1f} % (target >= 90 %)")


def startup(where, args, python, pingpong):
    print(f"\n## Start-up, {where.name}: medians of {args.startup_rounds} interleaved runs")
    commands = {
        "mpirun -n 2 true": where.mpirun(["true"]),
        "mpirun -n 2 pyhost run --engine mpi --tasks 2 -c pass":
            where.mpirun([PYHOST, "run", "--engine", "mpi", "--tasks", "2", "-c", "pass"]),
        "python -c pass": [python, "-c", "pass"],
        "mpirun -n 2 C program: MPI_Init + MPI_Finalize": where.mpirun([pingpong, 0]),
        "pyhost run --tasks 2 -c pass (no MPI)": [PYHOST, "run", "--tasks", "2", "-c", "pass"],
        # Open MPI without probing for UCX, OFI, PSM and InfiniBand (absent here).
        "C program, OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp": where.mpirun([pingpong, 0]),
        "pyhost, OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp":
            where.mpirun([PYHOST, "run", "--engine", "mpi", "--tasks", "2", "-c", "pass"])}
    lean = {"OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "self,vader,tcp"}
    runs = {label: [] for label in commands}
    for _ in range(args.startup_rounds):
        for label, command in commands.items():
            env = dict(where.env, **(lean if "ob1" in label else {}))
            runs[label].append(timed(command, env if command[0] != PYHOST else None))
    medians = {label: statistics.median(times) for label, times in runs.items()}
    for label, median in medians.items():
        print(f"  {label}: {median:.1f} ms")
    launcher, pyhost, interpreter = list(medians.values())[:3]
    print(f"  pyhost over the launcher: {pyhost - launcher:.1f} ms; limit launcher + 50 ms + "
          f"python = {launcher + 50 + interpreter:.1f} ms: "
          f"{'met' if pyhost <= launcher + 50 + interpreter else 'MISSED'}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--cpu-tasks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup-rounds", type=int, default=7)
    parser.add_argument("--no-netns", action="store_true")
    args = parser.parse_args()
    for tool in ("mpirun", "mpicc"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found (Debian: openmpi-bin, libopenmpi-dev)")
    python = str(REPO / ".venv" / "bin" / "python")  # with mpi4py (requirements-dev.txt)
    work = pathlib.Path(tempfile.mkdtemp())
    pingpong = work / "mpi_pingpong"
    subprocess.run(["mpicc", "-O2", "-o", pingpong, REPO / "bench" / "mpi_pingpong.c"], check=True)
    version = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"# bench_mpi {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.uname().nodename}"
          f", {os.cpu_count()} CPUs ({cpu}), load {os.getloadavg()[0]:.1f}, "
          f"{version.splitlines()[0]}, python {sys.version.split()[0]}; command: {' '.join(sys.argv)}")

    out = work / "run.json"
    print("\n## Local run, no MPI, 1 worker")
    for attempt in range(args.repeat):
        local = run([PYHOST, "run", "--mode", "threads", "-j", "1", "--tasks", str(args.tasks),
                     "--output", "grouped", "--json", out, "-c", "pass"], None, out)
        print(f"run {attempt + 1}: worker gap median {statistics.median(gaps_by_rank(local)[0]):.1f}"
              f" us, wall {local['wall_s'] / args.tasks * 1e6:.1f} us/task")

    places = [OneNode()]
    netns = not args.no_netns and os.geteuid() == 0 and shutil.which("ip")
    with contextlib.ExitStack() as stack:
        if netns:
            places.append(stack.enter_context(TwoNamespaces(work)))
        else:
            print("\n(two namespaces skipped: needs root and iproute2)")
        for where in places:
            dispatch(where, work, args, pingpong, python)
        efficiency(places[-1], work, args)
        for where in places:
            startup(where, args, python, pingpong)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
