"""Timing helpers of the benchmarks (kernels_bench.py, gpu_check.py, the executor benchmarks)."""
import statistics
import time


def best_of(fn, repeat=5):
    """(best, median) seconds of `repeat` calls of fn after one warm-up call (compiles, faults
    the pages in)."""
    return interleaved({"fn": fn}, repeat, warm=0)["fn"]


WARM_S = 0.002


def interleaved(fns, repeat=5, warm=1):
    """{name: (best, median)} seconds of the callables in `fns` (see interleaved_rounds)."""
    return {name: (min(ts), statistics.median(ts))
            for name, ts in interleaved_rounds(fns, repeat, warm).items()}


def interleaved_rounds(fns, repeat=5, warm=1):
    """{name: [seconds of each round]} of the callables in `fns`, each warmed up once, then run
    in turn for `repeat` rounds: on a machine shared with other work every one of them sees the
    same load, so their ratios hold even while the load drifts (round k of one is paired with
    round k of another: paired_ratio). In a round each one is called `warm` times untimed right
    before its timed call, so that it finds its data in the caches and its threads awake as in a
    loop of calls, not as the other implementations left them."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            # `warm` calls, and more until WARM_S has passed: a kernel's one call can end
            # before the helper threads the other implementations' turns put to sleep are
            # running again (a VM's idle vCPU may take longer to wake than the call takes).
            until = time.perf_counter() + WARM_S
            for _ in range(warm):
                fn()
            while warm and time.perf_counter() < until:
                fn()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return times


def paired_ratio(peer, mine):
    """(median, p25, p75) over the rounds of peer's time / mine (> 1: mine faster). Taking the
    ratio within each round before the median cancels the load both saw in that round; the
    spread says how far one run's figure can be trusted."""
    ratios = sorted(p / m for p, m in zip(peer, mine))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return statistics.median(ratios), q[0], q[-1]


def spread(values, scale=1e3, digits=2):
    """'median (min-max)' of values * scale."""
    return (f"{statistics.median(values) * scale:.{digits}f} "
            f"({min(values) * scale:.{digits}f}-{max(values) * scale:.{digits}f})")


def ratio_text(peer, mine):
    """paired_ratio as 'median x (p25-p75)'."""
    med, p25, p75 = paired_ratio(peer, mine)
    return f"{med:.2f}x ({p25:.2f}-{p75:.2f})"
