"""Monte Carlo estimate of pi: the seeds' Numba CUDA example (numba/pi.py) ported to
@pyhost.kernel.

Numba                                             pyhost
@cuda.jit                                         @pyhost.kernel (typed parameters)
thread_id = cuda.grid(1)                          thread_id = pyhost.tid()
create_xoroshiro128p_states(n, seed=1)            (nothing: the generator is counter-based)
xoroshiro128p_uniform_float32(states, thread_id)  pyhost.random(seed, counter)
compute_pi[blocks, threads_per_block](...)        compute_pi[blocks * threads_per_block](...)

Runs on the GPU when there is one, else natively on every CPU core (PYHOST_DEVICE=auto|cuda|cpu|
python). Every device draws the same random numbers, so the estimate is the same everywhere.

    pyhost run scripts/kernels/pi_montecarlo.py [iterations]
"""
import array
import sys
import time

import pyhost


@pyhost.kernel
def compute_pi(seed: pyhost.i64, iterations: pyhost.i32, out: pyhost.f32[:]):
    thread_id = pyhost.tid()
    inside = 0
    for i in range(iterations):
        counter = 2 * (thread_id * iterations + i)
        x = pyhost.random(seed, counter)
        y = pyhost.random(seed, counter + 1)
        if x ** 2 + y ** 2 <= 1.0:
            inside += 1
    out[thread_id] = 4.0 * inside / iterations


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    threads_per_block, blocks = 64, 24
    n = threads_per_block * blocks
    out = array.array("f", [0.0]) * n
    start = time.perf_counter()
    compute_pi[n](1, iterations, out)
    elapsed = time.perf_counter() - start
    print(f"pi: {sum(out) / n:.6f}  ({n * iterations:,} samples on {compute_pi.device}, "
          f"{elapsed:.3f} s including compilation)")


if __name__ == "__main__":
    main()
