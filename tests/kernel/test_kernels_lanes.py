"""The CPU's vector loops (direct.py: loop-free kernels compiled to a plain loop; lanes.py: PH_L
indices at once under masks) give the scalar loop's and the python reference's results bit for
bit, at ragged ends too, raise the same errors, and PYHOST_KERNEL_LANES=0/1 switches them."""
import array
import math

import pytest

import lane_samples as ls
from kernel_testing import CPU_OK, NATIVE, device, needs_cpu
from pyhost import _kernels as pk

pytestmark = needs_cpu

# The lanes need GCC's vector extensions (lanes_prelude.py); with another compiler
# (PYHOST_CXX=clang++) those kernels keep the scalar loop, with the same results.
LANES = "lanes" if CPU_OK and "clang" not in NATIVE.cpu_status()[1] else "scalar"


def run(kernel, dev, dims, make_args, monkeypatch, lanes="1"):
    """Launches on `dev` with fresh arguments; returns (args, the native kernel or None)."""
    monkeypatch.setenv("PYHOST_KERNEL_LANES", lanes)
    kernel._compiled.pop("cpu", None)  # the switch is read when the kernel is compiled
    args = make_args()
    with device(dev):
        kernel[dims](*args)
    return args, kernel._compiled.get("cpu")


def same_everywhere(kernel, dims, make_args, monkeypatch, outputs, expect_loop=None):
    """Python reference, scalar loop and vector loops agree byte for byte on `outputs`."""
    ref, _ = run(kernel, "python", dims, make_args, monkeypatch)
    scalar, k0 = run(kernel, "cpu", dims, make_args, monkeypatch, lanes="0")
    vector, k1 = run(kernel, "cpu", dims, make_args, monkeypatch, lanes="1")
    assert k0.loop == "scalar"
    if expect_loop:
        assert k1.loop == expect_loop
    for k in outputs:
        assert bytes(memoryview(scalar[k]).cast("B")) == bytes(memoryview(ref[k]).cast("B"))
        assert bytes(memoryview(vector[k]).cast("B")) == bytes(memoryview(ref[k]).cast("B"))
    return vector, k1


def f64_2d(h, w, fill=lambda y, x: 0.0):
    mv = memoryview(bytearray(8 * h * w)).cast("d", (h, w))
    for y in range(h):
        for x in range(w):
            mv[y, x] = fill(y, x)
    return mv


def values(n):
    """Every branch of `branches` and a spread of magnitudes."""
    return array.array("d", [math.sin(k * 0.7) * 5.0 if k % 9 else 4.0 for k in range(n)])


@pytest.mark.parametrize("w,h", [(37, 5), (16, 3), (3, 2), (64, 4)])
def test_mandelbrot_f64_bit_exact_and_ragged(w, h, monkeypatch):
    same_everywhere(ls.mandel_f64, (w, h),
                    lambda: (f64_2d(h, w), -2.1, -1.2, 3.0 / w, 60), monkeypatch, [0],
                    expect_loop=LANES)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 100, 1003])
def test_divergent_branches(n, monkeypatch):
    same_everywhere(ls.branches, n, lambda: (values(n), array.array("d", [0.0]) * n),
                    monkeypatch, [1])


@pytest.mark.parametrize("n", [7, 16, 45])
def test_loops_with_break_and_continue(n, monkeypatch):
    same_everywhere(ls.loops, n, lambda: (3, values(n), array.array("d", [0.0]) * n),
                    monkeypatch, [2], expect_loop=LANES)


@pytest.mark.parametrize("n", [5, 33])
def test_early_return(n, monkeypatch):
    same_everywhere(ls.early_return, n, lambda: (values(n), array.array("d", [9.0]) * n),
                    monkeypatch, [1], expect_loop=LANES)


@pytest.mark.parametrize("w,h", [(19, 7), (2, 2), (40, 3)])
def test_stencil_direct_interior_checked_borders(w, h, monkeypatch):
    make = lambda: (f64_2d(h, w, lambda y, x: math.cos(x * 1.3 + y * 0.4)), f64_2d(h, w))  # noqa
    same_everywhere(ls.stencil, (w, h), make, monkeypatch, [1], expect_loop="direct")


@pytest.mark.parametrize("w,h,lo,hi,row", [
    (40, 6, 3, 30, 2),                 # an interval inside the row, one row left out
    (19, 4, -5, 100, -1),              # the bounds beyond the row: the edges decide
    (25, 5, 30, 40, 1),                # empty: lo beyond the row
    (25, 5, 10, 4, 1),                 # empty: hi below lo
    (33, 3, 1, (1 << 63) - 3, 9),      # hi + 2 at the top of i64
    (33, 3, -(1 << 31), -(1 << 63), 9),
])
def test_guard_split_matches_the_reference(w, h, lo, hi, row, monkeypatch):
    make = lambda: (f64_2d(h, w, lambda y, x: math.sin(x * 0.9 + y * 1.7)), f64_2d(h, w),  # noqa
                    lo, hi, row)
    same_everywhere(ls.guarded_band, (w, h), make, monkeypatch, [1], expect_loop="direct")
    assert "// guard split: yes" in ls.guarded_band.source


@pytest.mark.parametrize("k", [-3, 0, 5, 16, 17, 40])
def test_guard_split_on_one_index(k, monkeypatch):
    n = 17
    make = lambda: (values(n), array.array("d", [0.0]) * n, k)  # noqa: E731
    same_everywhere(ls.guarded_column, n, make, monkeypatch, [1], expect_loop="direct")
    assert "// guard split: yes" in ls.guarded_column.source


def test_no_guard_split_for_or_and_float_bounds(monkeypatch):
    n = 23
    same_everywhere(ls.guarded_or, n, lambda: (values(n), array.array("d", [0.0]) * n, 15),
                    monkeypatch, [1], expect_loop="direct")
    same_everywhere(ls.guarded_float, n, lambda: (values(n), array.array("d", [0.0]) * n, 7.5),
                    monkeypatch, [1], expect_loop="direct")
    assert "// guard split: no (no top-level if" in ls.guarded_or.source
    assert "// guard split: no ('edge' is not a 64-bit integer comparison)" in \
        ls.guarded_float.source
    assert "ph_dt_" not in ls.guarded_or.source


def test_negative_index_wraps_like_python(monkeypatch):
    w, h = 21, 4
    make = lambda: (f64_2d(h, w, lambda y, x: y * 100.0 + x), f64_2d(h, w))  # noqa: E731
    out, _ = same_everywhere(ls.wrap_stencil, (w, h), make, monkeypatch, [1],
                             expect_loop="direct")
    assert out[1][0, 0] == (3 * 100.0 + 0) * 2.0 + (0 * 100.0 + w - 1)


def test_direct_loop_index_error_at_the_ragged_end(monkeypatch):
    n = 21
    for lanes in ("0", "1"):
        monkeypatch.setenv("PYHOST_KERNEL_LANES", lanes)
        ls.shifted._compiled.pop("cpu", None)
        x, out = array.array("f", range(n)), array.array("f", [0.0]) * n
        with device("cpu"), pytest.raises(IndexError) as info:
            ls.shifted[n](x, out)
        assert "index out of range for 'x'" in str(info.value)
        # every index but the last completed, as in the scalar loop
        assert list(out[:n - 1]) == [(k + 1) * 0.5 + k for k in range(n - 1)]
    assert ls.shifted._compiled["cpu"].loop == "direct"


def test_lanes_index_error_names_the_site(monkeypatch):
    n = 40
    messages = []
    for lanes in ("0", "1"):
        monkeypatch.setenv("PYHOST_KERNEL_LANES", lanes)
        ls.lane_index_error._compiled.pop("cpu", None)
        with device("cpu"), pytest.raises(IndexError) as info:
            ls.lane_index_error[n](values(n), array.array("d", [0.0]) * n, 21)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "index out of range for 'x'" in messages[0]


def test_random_in_lanes_matches_reference(monkeypatch):
    n = 37
    same_everywhere(ls.mc_hits, n, lambda: (array.array("q", [0]) * n, 12345, 50),
                    monkeypatch, [0], expect_loop=LANES)


def test_switch_turns_the_vector_loops_off_and_on(monkeypatch):
    n = 50
    make = lambda: (f64_2d(2, n), -2.0, -1.0, 0.05, 30)  # noqa: E731
    _, off = run(ls.mandel_f64, "cpu", (n, 2), make, monkeypatch, lanes="0")
    assert off.loop == "scalar" and off.lanes == 1
    _, on = run(ls.mandel_f64, "cpu", (n, 2), make, monkeypatch, lanes="1")
    assert on.loop == LANES and (on.lanes > 1) == (LANES == "lanes")
    _, direct = run(ls.stencil, "cpu", (4, 4), lambda: (f64_2d(4, 4), f64_2d(4, 4)),
                    monkeypatch, lanes="1")
    assert direct.loop == "direct"
    monkeypatch.setenv("PYHOST_KERNEL_LANES", "maybe")
    ls.stencil._compiled.pop("cpu", None)
    with device("cpu"), pytest.raises(pk.KernelLaunchError, match="PYHOST_KERNEL_LANES"):
        ls.stencil[4, 4](f64_2d(4, 4), f64_2d(4, 4))


def test_generated_source_says_which_loop():
    assert "// direct loop: yes" in ls.stencil.source
    assert "// lanes: yes" in ls.mandel_f64.source
    assert "// direct loop: no (the kernel has a loop)" in ls.mandel_f64.source


@pytest.mark.parametrize("n", [9, 70])
def test_uniform_loops_run_unmasked_and_match(n, monkeypatch):
    same_everywhere(ls.uniform_loops, n, lambda: (6, values(n), array.array("d", [0.0]) * n),
                    monkeypatch, [2], expect_loop=LANES)
    src = ls.uniform_loops.source
    lanes = src[src.index("namespace ph_lanes"):]
    assert "::ph_i64 ph_u1;" in lanes          # the first loop: a scalar counter
    assert "::ph_i64 ph_u2;" not in lanes      # the one inside the divergent if: masked


def test_random_with_per_lane_seeds(monkeypatch):
    n = 67
    same_everywhere(ls.lane_seeds, n, lambda: (array.array("d", [0.0]) * n, -(1 << 40)),
                    monkeypatch, [0], expect_loop=LANES)


def test_a_written_array_read_at_another_index_keeps_the_scalar_loop(monkeypatch, native):
    n = 40
    native.set_cpu_threads(1)  # one index after the other, as the python reference runs them
    try:
        vector, k = same_everywhere(ls.reads_neighbour_written, n,
                                    lambda: (array.array("d", [1.0]) * n,), monkeypatch, [0])
    finally:
        native.set_cpu_threads(0)
    assert k.loop == "scalar"
    assert "is written and indexed by other than the launch index" in \
        ls.reads_neighbour_written.source
    assert vector[0][3] == ((1.0 * 0.5 + 1.0) * 0.5 + 1.0) * 0.5 + 1.0


@pytest.mark.parametrize("n", [13, 77])
def test_funcs_with_loops_and_returns_run_as_lanes(n, monkeypatch):
    same_everywhere(ls.with_funcs, n, lambda: (values(n), array.array("d", [0.0]) * n),
                    monkeypatch, [1], expect_loop=LANES)
    src = ls.with_funcs.source
    assert "// direct loop: no (@pyhost.func halvings() has a loop)" in src
    assert "static inline ph_i64 ph_lf_ph_f_halvings(" in src  # the func's own lanes


def test_the_func_based_mandelbrot_example_runs_as_lanes(monkeypatch):
    import kernel_samples as ks
    w, h = 45, 7
    same_everywhere(ks.mandelbrot, (w, h),
                    lambda: (memoryview(bytearray(4 * w * h)).cast("i", (h, w)), -2.0, -1.1,
                             2.6 / w, 80), monkeypatch, [0], expect_loop=LANES)
