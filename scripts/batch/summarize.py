"""Reads every result of the sweep (argv[1]) and prints a table; fails if one is missing."""
import json
import math
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
expected = int(sys.argv[2])
results = sorted((json.loads(p.read_text()) for p in out.glob("pi-*.json")),
                 key=lambda r: (r["samples"], r["seed"]))
print(f"{'samples':>10} {'seed':>5} {'pi':>10} {'error':>10}")
for r in results:
    print(f"{r['samples']:>10} {r['seed']:>5} {r['pi']:>10.6f} {abs(r['pi'] - math.pi):>10.6f}")
if len(results) != expected:
    sys.exit(f"expected {expected} results, found {len(results)}")
