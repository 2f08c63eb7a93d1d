"""Timing helpers of the kernel benchmarks (kernels_bench.py, gpu_check.py)."""
import statistics
import time


def best_of(fn, repeat=5):
    """(best, median) seconds of `repeat` calls of fn after one warm-up call (compiles, faults
    the pages in)."""
    return interleaved({"fn": fn}, repeat, warm=0)["fn"]


def interleaved(fns, repeat=5, warm=1):
    """{name: (best, median)} seconds of the callables in `fns`, each warmed up once, then run
    in turn for `repeat` rounds: on a machine shared with other work every one of them sees the
    same load, so their ratios hold even while the load drifts. In a round each one is called
    `warm` times untimed right before its timed call, so that it finds its data in the caches
    and its threads awake as in a loop of calls, not as the other implementations left them."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            for _ in range(warm):
                fn()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: (min(ts), statistics.median(ts)) for name, ts in times.items()}
