"""CPU-bound: Monte Carlo estimate of pi, one random point at a time in an interpreted loop.

Usage: pyhost compare scripts/monte_carlo_pi.py [SAMPLES]   (default 1_000_000 a task). Each task
draws from its own seeded generator (seed = pyhost.task_id), so the estimates differ by task but
are the same in every mode.
"""
import random
import sys

import pyhost


def estimate_pi(samples, rng):
    inside = 0
    for _ in range(samples):
        x = rng.random()
        y = rng.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4.0 * inside / samples


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(pyhost.task_id)
    print(f"task {pyhost.task_id}: pi ~ {estimate_pi(samples, rng):.5f} from {samples} samples")


if __name__ == "__main__":
    main()
