"""One point of a parameter sweep: estimates pi by Monte Carlo and writes the result as JSON.

usage: sweep.py --samples N --seed S --out DIR
With several tasks (pyhost run --tasks K), each task uses seed S + task id.
"""
import argparse
import json
import pathlib
import random
import time

try:
    import pyhost  # present when run by pyhost; reports task 0 elsewhere

    task_id = pyhost.task_id
except (ImportError, AttributeError):
    task_id = 0

parser = argparse.ArgumentParser()
parser.add_argument("--samples", type=int, required=True)
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", type=pathlib.Path, required=True)
args = parser.parse_args()

seed = args.seed + task_id
rng = random.Random(seed)
start = time.perf_counter()
inside = sum(1 for _ in range(args.samples) if rng.random() ** 2 + rng.random() ** 2 <= 1.0)
result = {"samples": args.samples, "seed": seed, "pi": 4 * inside / args.samples,
          "seconds": round(time.perf_counter() - start, 4)}
(args.out / f"pi-{args.samples}-{seed}.json").write_text(json.dumps(result))
print(json.dumps(result))
