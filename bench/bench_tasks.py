"""Benchmark: thousands of small tasks, and worker start-up (issue "per-task cost near the floor").

Measured in one run:
  * per trivial task (`pyhost run --mode M -j2 --tasks K -c 'x=1'`, the whole command's wall
    divided by K, start-up included) for K = 100, 1000, 10000, 100000 in every mode, with the
    peak RSS of the run: the cost must stay flat as K grows, in time and in memory;
  * the peers a user would pick instead, per item: `exec` of the same code in fresh globals,
    multiprocessing.Pool(2).map(f, ..., chunksize=1) (fork) and ProcessPoolExecutor(2);
  * worker start-up: one sub-interpreter worker ready (from `--json`'s worker_startup) against a
    bare `_interpreters.create()`, and N (= cores) workers ready against one, with CPython's own
    creation of N interpreters on N threads at once beside it (rounds interleaved, medians);
  * memory per worker: RSS of a process worker, and what a sub-interpreter worker adds to a
    serial run's RSS, at 2, 8 and 32 workers.
Run with the python pyhost embeds:
  .venv/bin/python bench/bench_tasks.py [--pyhost build/pyhost] [--max-k 100000] [--json F]
"""
import argparse
import concurrent.futures
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

from machine import cpu_model

MODES = ["serial", "threads", "subinterpreters", "processes"]




def timed_run(command):
    """Wall seconds and peak RSS (MB) of a child command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command} failed: {stderr}")
    return wall, usage.ru_maxrss / 1024


def per_task(pyhost, mode, k, repeat):
    runs = [timed_run([pyhost, "run", "--mode", mode, "-j", "2", "--tasks", str(k), "-c", "x=1"])
            for _ in range(repeat)]
    wall = min(r[0] for r in runs)
    return wall / k * 1e6, max(r[1] for r in runs)


def trivial(x):
    return x


def peers(k):
    code = compile("x=1", "<string>", "exec")
    start = time.perf_counter()
    for _ in range(k):
        exec(code, {"__name__": "__main__"})
    exec_us = (time.perf_counter() - start) / k * 1e6
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        pool.map(trivial, range(100), chunksize=1)
        start = time.perf_counter()
        pool.map(trivial, range(k), chunksize=1)
        pool_us = (time.perf_counter() - start) / k * 1e6
    with concurrent.futures.ProcessPoolExecutor(2) as executor:
        list(executor.map(trivial, range(100)))
        start = time.perf_counter()
        list(executor.map(trivial, range(k)))
        ppe_us = (time.perf_counter() - start) / k * 1e6
    return {"exec_us": exec_us, "pool_map_us": pool_us, "process_pool_executor_us": ppe_us}


def startup(pyhost, workers, repeat):
    ready = []
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        for _ in range(repeat):
            subprocess.run([pyhost, "run", "--mode", "subinterpreters", "-j", str(workers),
                            "--tasks", str(workers), "--json", report, "-c", "pass"],
                           check=True, capture_output=True)
            with open(report) as f:
                doc = json.load(f)
            ready.append(max(w["startup_s"] for w in doc["worker_startup"]))
    return statistics.median(ready) * 1e3


BARE_CREATE = r"""
import sys, threading, time
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters

def ready(count):
    # count interpreters created at once, one per thread: until the last can run code
    ids, ends = [None] * count, [0.0] * count

    def create(k):
        ids[k] = interpreters.create()
        interpreters.exec(ids[k], "pass")
        ends[k] = time.perf_counter()

    start = time.perf_counter()
    threads = [threading.Thread(target=create, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in ids:
        interpreters.destroy(i)
    return (max(ends) - start) * 1e3

rounds, count = int(sys.argv[1]), int(sys.argv[2])
ones, many = sorted(ready(1) for _ in range(rounds)), sorted(ready(count) for _ in range(rounds))
print(ones[rounds // 2], many[rounds // 2])
"""


def memory_run(pyhost, mode, workers):
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        subprocess.run([pyhost, "run", "--mode", mode, "-j", str(workers), "--tasks",
                        str(workers), "--json", report, "-c", "import time; time.sleep(0.2)"],
                       check=True, capture_output=True)
        with open(report) as f:
            return json.load(f)


def memory_per_worker(pyhost, mode, workers, serial_mb):
    """A process worker: its own peak RSS. A sub-interpreter worker: what the process holds over
    a serial run of the same task, per worker (as `pyhost compare`'s RSS/worker column)."""
    doc = memory_run(pyhost, mode, workers)
    if mode == "processes":
        return statistics.median(t["peak_rss_mb"] for t in doc["tasks"])
    return max(0.0, doc["peak_rss_mb"] - serial_mb) / workers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhost", default=os.path.join(os.path.dirname(__file__), "..", "build", "pyhost"))
    parser.add_argument("--max-k", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--startup-repeat", type=int, default=15, help="rounds of the start-up measure")
    parser.add_argument("--skip-k", action="store_true", help="skip the per-task cost by K")
    args = parser.parse_args()
    pyhost = os.path.abspath(args.pyhost)
    ks = [k for k in (100, 1000, 10000, 100000) if k <= args.max_k]
    figures = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                           "python": sys.version.split()[0], "load_before": os.getloadavg()[0]},
               "per_task_us": {}, "peak_rss_mb": {}}
    print(f"# {cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"{'mode':16}" + "".join(f"{'K=' + str(k):>12}" for k in ks) + "   peak RSS MB by K")
    for mode in ([] if args.skip_k else MODES):
        costs, rss = [], []
        for k in ks:
            us, mb = per_task(pyhost, mode, k, args.repeat if k < 100000 else 1)
            costs.append(us)
            rss.append(mb)
        figures["per_task_us"][mode] = dict(zip(map(str, ks), costs))
        figures["peak_rss_mb"][mode] = dict(zip(map(str, ks), rss))
        print(f"{mode:16}" + "".join(f"{c:12.1f}" for c in costs) + "   " +
              " ".join(f"{m:.0f}" for m in rss))
    peer = peers(min(10000, args.max_k))
    figures["peers"] = peer
    print("peers per item (K=10000): " + ", ".join(f"{k} {v:.1f} us" for k, v in peer.items()))

    # Interleaved rounds: one worker, N workers, CPython's own (bare) creation of one and of N
    # on N threads at once; medians.
    n = max(2, os.cpu_count() or 2)
    rounds = {"one": [], "n": [], "bare": [], "bare_n": []}
    for _ in range(args.startup_repeat):
        rounds["one"].append(startup(pyhost, 1, 1))
        rounds["n"].append(startup(pyhost, n, 1))
        bare_one, bare_n = (float(x) for x in subprocess.run(
            [sys.executable, "-c", BARE_CREATE, "3", str(n)], check=True, capture_output=True,
            text=True).stdout.split())
        rounds["bare"].append(bare_one)
        rounds["bare_n"].append(bare_n)
    one, many, bare, bare_n = (statistics.median(rounds[k]) for k in ("one", "n", "bare", "bare_n"))
    figures["startup_ms"] = {"bare_interpreters_create": bare, "one_worker": one,
                             "workers": n, "n_workers": many, "bare_n_concurrent": bare_n}
    print(f"sub-interpreter worker ready (median of {args.startup_repeat}): one {one:.2f} ms "
          f"({one / bare:.2f}x a bare _interpreters.create() of {bare:.2f} ms); {n} workers "
          f"{many:.2f} ms ({many / one:.2f}x one; CPython creating {n} on {n} threads: "
          f"{bare_n:.2f} ms, {bare_n / bare:.2f}x one)")

    memory = {}
    serial_mb = statistics.median(memory_run(pyhost, "serial", 1)["peak_rss_mb"] for _ in range(3))
    print(f"RSS of a serial run of the same task: {serial_mb:.1f} MB")
    figures["serial_rss_mb"] = serial_mb
    for mode in ("subinterpreters", "processes"):
        memory[mode] = {str(w): memory_per_worker(pyhost, mode, w, serial_mb) for w in (2, 8, 32)}
        print(f"RSS per worker, {mode}: " +
              ", ".join(f"{w} workers {mb:.1f} MB" for w, mb in memory[mode].items()))
    figures["rss_per_worker_mb"] = memory
    figures["machine"]["load_after"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
