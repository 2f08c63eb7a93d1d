"""Benchmark: what the GIL sampler costs (target: at most 2 % of the wall).

The same CPU-bound run (scripts/cpu_bound.py, 2 tasks on 2 workers, threads and sub-interpreters)
with the sampler on (default, 1 kHz) and off (PYHOST_GIL_SAMPLER=0), interleaved (on, off, on,
off, ...) so that drift of the machine affects both alike; medians reported. Two figures:
  * the wall ratio on / off - 1 (noisy on a shared machine: compare it with the spread);
  * the sampler thread's own CPU time over the wall, from `gil_sampling.cpu_s` of --json (what
    it takes from the workers, independent of the machine's load).
Run: .venv/bin/python bench/bench_gil_sampler.py [--pyhost build/pyhost] [--repeat 11] [--record]
--record appends the figures to bench/RESULTS.md with the machine, CPU model, date and command.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from machine import cpu_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cpu_bound.py")


def run(pyhost, mode, work, sampler_on):
    env = dict(os.environ)
    env["PYHOST_GIL_SAMPLER"] = "1" if sampler_on else "0"
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        subprocess.run([pyhost, "run", "--mode", mode, "-j", "2", "--tasks", "2", "--json", report,
                        SCRIPT, str(work)], check=True, capture_output=True, env=env)
        with open(report) as f:
            doc = json.load(f)
    sampling = doc.get("gil_sampling") or {}
    return doc["wall_s"], sampling.get("cpu_s"), sampling.get("samples"), sampling.get("period_s")




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhost", default=os.path.join(ROOT, "build", "pyhost"))
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--work", type=int, default=3_000_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    rows = []
    for mode in ("threads", "subinterpreters"):
        on, off, cpu_share, periods = [], [], [], []
        run(args.pyhost, mode, args.work, True)  # warm-up
        for _ in range(args.repeat):
            wall, cpu, samples, period = run(args.pyhost, mode, args.work, True)
            on.append(wall)
            cpu_share.append(cpu / wall)
            periods.append(period)
            off.append(run(args.pyhost, mode, args.work, False)[0])
        m_on, m_off = statistics.median(on), statistics.median(off)
        spread = statistics.median(abs(x - m_off) for x in off) / m_off
        rows.append((mode, m_on, m_off, m_on / m_off - 1, spread, statistics.median(cpu_share),
                     statistics.median(periods)))
    load_after = os.getloadavg()[0]

    lines = [
        f"## GIL sampler overhead, {datetime.date.today().isoformat()}",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores, {cpu_model()}, Python "
        f"{platform.python_version()}; load average before/after: {load_before:.2f} / "
        f"{load_after:.2f}",
        "",
        f"Command: `.venv/bin/python bench/bench_gil_sampler.py --repeat {args.repeat}"
        f"{' --record' if args.record else ''}` (scripts/cpu_bound.py {args.work}, 2 tasks on 2 "
        "workers; sampler on and off interleaved, medians)",
        "",
        "| mode | wall, sampler on (s) | wall, off (s) | on / off - 1 | spread of off (MAD) "
        "| sampler CPU / wall | mean sample period |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, m_on, m_off, overhead, spread, share, period in rows:
        lines.append(f"| {mode} | {m_on:.3f} | {m_off:.3f} | {overhead * 100:+.1f} % | "
                     f"{spread * 100:.1f} % | {share * 100:.2f} % | {period * 1000:.2f} ms |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    sys.exit(main())
