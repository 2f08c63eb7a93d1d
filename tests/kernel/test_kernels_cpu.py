"""CPU fallback (generated C++ compiled by the system compiler, run over a thread pool without
the GIL) against the python reference device, on random inputs."""
import array
import math
import random

import pytest

from pyhost import _kernels as pk
import kernel_samples as ks
from kernel_testing import launch, needs_cpu

pytestmark = needs_cpu

RNG_SEED = 20240611


def shaped(fmt, shape, values=None):
    n = math.prod(shape)
    itemsize = array.array(fmt).itemsize
    mv = memoryview(bytearray(n * itemsize)).cast("B").cast(fmt, shape)
    if values is not None:
        flat = mv.cast("B").cast(fmt)
        for k, v in enumerate(values):
            flat[k] = v
    return mv


def flat(mv):
    return mv.cast("B").cast(mv.format).tolist() if mv.ndim > 1 else mv.tolist()


def both(kernel, dims, make_args):
    """Runs the kernel on the python reference and on the CPU, each on fresh arguments."""
    ref = make_args()
    cpu = make_args()
    launch(kernel, "python", dims, *ref)
    launch(kernel, "cpu", dims, *cpu)
    return ref, cpu


def assert_close(ref, got, rel=0.0, abs_=0.0):
    assert len(ref) == len(got)
    for k, (r, g) in enumerate(zip(ref, got)):
        if isinstance(r, float) and math.isnan(r):
            assert math.isnan(g), k
        elif rel or abs_:
            assert g == pytest.approx(r, rel=rel, abs=abs_), (k, r, g)
        else:
            assert g == r, (k, r, g)


def test_saxpy_f32_random():
    rng = random.Random(RNG_SEED)
    n = 3000
    xs = [rng.uniform(-100, 100) for _ in range(n)]
    ys = [rng.uniform(-100, 100) for _ in range(n)]
    ref, cpu = both(ks.saxpy, n, lambda: (1.7, array.array("f", xs), array.array("f", ys)))
    # f32 arithmetic rounds a*x before the add; the reference rounds once: <= 2 ulp apart.
    assert_close(list(ref[2]), list(cpu[2]), rel=3e-7, abs_=1e-5)


def test_saxpy_f64_is_bit_exact():
    rng = random.Random(RNG_SEED + 1)
    n = 3000
    xs = [rng.uniform(-1e6, 1e6) for _ in range(n)]
    ys = [rng.uniform(-1e6, 1e6) for _ in range(n)]
    ref, cpu = both(ks.saxpy64, n, lambda: (0.3, array.array("d", xs), array.array("d", ys)))
    assert list(ref[2]) == list(cpu[2])


def test_saxpy_large_over_threads():
    n = 2_000_000
    x = array.array("f", range(n))
    y = array.array("f", [1.0]) * n
    launch(ks.saxpy, "cpu", n, 2.0, x, y)
    assert y[0] == 1.0 and y[12345] == 24691.0 and y[n - 1] == pytest.approx(2.0 * (n - 1) + 1)


def test_mandelbrot_2d_while_and_tuple_assignment():
    w, h, it = 48, 32, 60
    args = lambda: (shaped("i", (h, w)), -2.2, -1.2, 2.4 / h, it)  # noqa: E731
    ref, cpu = both(ks.mandelbrot, (w, h), args)
    assert flat(ref[0]) == flat(cpu[0])
    assert max(flat(cpu[0])) == it and min(flat(cpu[0])) >= 1
    args8 = lambda: (shaped("B", (h, w)), -2.2, -1.2, 2.4 / h, 300)  # noqa: E731
    ref, cpu = both(ks.mandelbrot_inline, (w, h), args8)
    assert flat(ref[0]) == flat(cpu[0])


def test_monte_carlo_pi_with_atomics_and_rng():
    threads, samples = 200, 25
    ref, cpu = both(ks.monte_carlo_pi, threads, lambda: (array.array("q", [0]), 1234, samples))
    assert ref[0][0] == cpu[0][0]  # same random bits, same double arithmetic: same count
    assert abs(4.0 * cpu[0][0] / (threads * samples) - math.pi) < 0.1
    big = array.array("q", [0])
    launch(ks.monte_carlo_pi, "cpu", 4000, big, 99, 250)
    assert abs(4.0 * big[0] / 1_000_000 - math.pi) < 0.01


def test_random_is_bit_exact_on_cpu():
    n = 500
    ref, cpu = both(ks.random_fill, n, lambda: (array.array("d", [0.0]) * n, 7))
    assert list(ref[0]) == list(cpu[0]) == [pk.random(7, i) for i in range(n)]


def test_reductions():
    rng = random.Random(RNG_SEED + 2)
    n, chunk = 1000, 64
    parts = (n + chunk - 1) // chunk
    xs = [rng.uniform(-10, 10) for _ in range(n)]
    ref, cpu = both(ks.partial_sums, parts,
                    lambda: (array.array("d", xs), array.array("d", [0.0]) * parts, chunk))
    assert list(ref[1]) == list(cpu[1])
    assert sum(cpu[1]) == pytest.approx(math.fsum(xs), rel=1e-12)
    ints = [rng.randint(-10 ** 9, 10 ** 9) for _ in range(n)]
    ref, cpu = both(ks.atomic_sum_int, n, lambda: (array.array("q", ints), array.array("q", [0])))
    assert ref[1][0] == cpu[1][0] == sum(ints)
    fl = [rng.uniform(0, 1) for _ in range(n)]
    ref, cpu = both(ks.atomic_sum_f32, n, lambda: (array.array("f", fl), array.array("f", [0])))
    assert cpu[1][0] == pytest.approx(ref[1][0], rel=1e-4)
    vals = [rng.randint(-1000, 1000) for _ in range(n)]
    ref, cpu = both(ks.histogram, n, lambda: (array.array("i", vals), array.array("I", [0] * 7)))
    assert list(ref[1]) == list(cpu[1]) and sum(cpu[1]) == n


def test_python_integer_semantics():
    rng = random.Random(RNG_SEED + 3)
    n = 400
    a = [rng.randint(-50, 50) for _ in range(n)]
    b = [rng.choice([-1, 1]) * rng.randint(1, 40) for _ in range(n)]
    a[:4] = [-7, 7, -7, 7]
    b[:4] = [2, -2, -2, 2]
    ref, cpu = both(ks.int_ops, n, lambda: (array.array("q", a), array.array("q", b),
                                            shaped("q", (n, 16))))
    assert flat(ref[2]) == flat(cpu[2])
    out = cpu[2]
    for k in range(n):  # spelled out against Python itself
        x, y = a[k], b[k]
        assert (out[k, 0], out[k, 1], out[k, 3], out[k, 9]) == (x // y, x % y, x ** (y % 5),
                                                                 -10 < x < y <= 40)
        assert out[k, 10] == int(x / y * 1000) and out[k, 13] == x // -3 + x % -3


def test_python_float_semantics():
    rng = random.Random(RNG_SEED + 4)
    n = 400
    a = [rng.uniform(-60, 60) for _ in range(n)]
    b = [rng.choice([-1, 1]) * rng.uniform(0.1, 30) for _ in range(n)]
    a[:6] = [-7.5, 7.5, -7.5, 7.5, 2.5, -0.0]
    b[:6] = [2.0, -2.0, -2.0, 2.0, 2.5, 3.0]
    ref, cpu = both(ks.float_ops, n, lambda: (array.array("d", a), array.array("d", b),
                                              shaped("d", (n, 15))))
    r, c = flat(ref[2]), flat(cpu[2])
    for k in range(0, len(r)):
        col = k % 15
        if col in (6, 7, 8):  # libm functions: same glibc, but allow 1 ulp
            assert c[k] == pytest.approx(r[k], rel=1e-15, abs=1e-15), (k, r[k], c[k])
        else:
            assert c[k] == r[k] or (math.isnan(c[k]) and math.isnan(r[k])), (k, r[k], c[k])
    out = cpu[2]
    assert out[0, 1] == -7.5 // 2.0 and out[1, 2] == 7.5 % -2.0 and out[5, 1] == -0.0 // 3.0
    assert math.copysign(1.0, out[5, 2]) == math.copysign(1.0, -0.0 % 3.0)


def test_f32_math_close_to_reference():
    rng = random.Random(RNG_SEED + 5)
    n = 500
    xs = [rng.uniform(-1000, 1000) for _ in range(n)]
    ref, cpu = both(ks.f32_math, n, lambda: (array.array("f", xs), array.array("f", [0.0]) * n))
    assert_close(list(ref[1]), list(cpu[1]), rel=1e-6, abs_=1e-4)


def test_short_circuit_and_or_values():
    vals = [-3, -1, 0, 1, 2, 3, 5, 6, 9, 0, 4, -3]
    n = len(vals)
    ref, cpu = both(ks.short_circuit, n, lambda: (array.array("q", vals), array.array("q", [0]),
                                                  shaped("q", (n, 6))))
    assert flat(ref[2]) == flat(cpu[2])
    # bump() ran once per positive value (and) and once per value <= 5 (or), no more
    expected = sum(v > 0 for v in vals) + sum(not v > 5 for v in vals)
    assert ref[1][0] == cpu[1][0] == expected
    out = cpu[2]
    for k, v in enumerate(vals):
        assert (out[k, 1], out[k, 2], out[k, 3], out[k, 4]) == (v and 7, v or -1, not v,
                                                                100 if v > 2 else -100)


def test_loops_break_continue_ranges():
    ns = [0, 1, 2, 3, 4, 5, 7, 10, 13, 14, 15, 20, 31]
    n = len(ns)
    ref, cpu = both(ks.loops, n, lambda: (array.array("q", ns), shaped("q", (n, 5))))
    assert flat(ref[1]) == flat(cpu[1])


def test_tuple_assignment_fibonacci_and_swap():
    n = 91
    ref, cpu = both(ks.fibonacci, n, lambda: (array.array("q", [0]) * n,))
    assert list(ref[0]) == list(cpu[0])
    assert cpu[0][90] == 2880067194370816120
    ref, cpu = both(ks.swap_pairs, 7, lambda: (array.array("f", range(7)),))
    assert list(cpu[0]) == list(ref[0]) == [6, 5, 4, 3, 2, 1, 0]


def test_3d_grid_shape_and_negative_indices():
    ref, cpu = both(ks.grid3d, (5, 4, 3), lambda: (shaped("i", (3, 4, 5)),))
    assert flat(ref[0]) == flat(cpu[0])
    xs = [float(k * k) for k in range(9)]
    ref, cpu = both(ks.negative_index, 9, lambda: (array.array("d", xs), array.array("d", [0] * 9)))
    assert list(ref[1]) == list(cpu[1]) == [xs[-1 - i] + xs[0] for i in range(9)]


def test_small_types_wrap_like_casts():
    n = 50
    rng = random.Random(RNG_SEED + 6)
    a = [rng.randint(0, 255) for _ in range(n)]
    b = [rng.randint(-2 ** 31, 2 ** 31 - 1) for _ in range(n)]
    c = [rng.randint(0, 2 ** 32 - 1) for _ in range(n)]
    f = [rng.random() < 0.5 for _ in range(n)]
    mk = lambda: (array.array("B", a), array.array("i", b), array.array("I", c),  # noqa: E731
                  memoryview(bytearray(bytes(f))).cast("?"))
    ref, cpu = both(ks.small_types, n, mk)
    for r, g in zip(ref, cpu):
        assert list(r) == list(g)


def test_casts():
    xs = [0.1, -3.7, 2.5, 1e-3, -0.0, 123456.789, 25.6, -25.6]
    n = len(xs)
    ref, cpu = both(ks.casts, n, lambda: (array.array("d", xs), shaped("d", (n, 7))))
    assert flat(ref[1]) == flat(cpu[1])


def test_funcs_generic_annotated_and_writing():
    xs = [-3.0, -0.5, 0.25, 2.0, 7.5]
    ns = [-4, 0, 3, 9, 5]
    ref, cpu = both(ks.funcs, 5, lambda: (array.array("d", xs), array.array("q", ns),
                                          array.array("d", [0.0] * 5)))
    assert list(ref[2]) == list(cpu[2]) == [
        2 * (max(-1.0, min(1.0, x)) + max(0, min(5, k))) for x, k in zip(xs, ns)]


def test_early_return_and_augmented_assignment():
    ref, cpu = both(ks.early_return, 10, lambda: (array.array("q", range(10)),))
    assert list(ref[0]) == list(cpu[0])
    xs = [0.5, -3.25, 10.0, 7.75]
    ks_ = [1, -2, 3, 40]
    ref, cpu = both(ks.augmented, 4, lambda: (array.array("d", xs), array.array("q", ks_)))
    assert list(ref[0]) == list(cpu[0]) and list(ref[1]) == list(cpu[1])


def test_index_error_names_kernel_line_and_array():
    x = array.array("f", [0.0] * 4)
    with pytest.raises(IndexError) as info:
        launch(ks.index_error, "cpu", 4, x)
    text = str(info.value)
    assert "index out of range for 'x' in kernel 'index_error' at " in text
    assert "kernel_samples.py:" in text and "x[i + 1] = 1.0" in text
    assert list(x) == [0.0, 1.0, 1.0, 1.0]  # the other indices ran


def test_zero_division_error():
    with pytest.raises(ZeroDivisionError, match="integer division or modulo by zero in kernel "
                                                "'zero_division'"):
        launch(ks.zero_division, "cpu", 3, array.array("q", [4, 4, 4]),
               array.array("q", [1, 0, 2]))


def test_zero_sized_launch_and_buffers():
    launch(ks.saxpy, "cpu", 0, 1.0, array.array("f"), array.array("f"))
    launch(ks.tiny_read, "cpu", 1, array.array("d", [2.5]), out := array.array("d", [0.0]))
    assert out[0] == 5.0
