"""``from pyhost import cuda``, round two: the rest of Numba's CUDA programming guide (barriers
in uniform branches, cooperative groups, cuda.reduce, constants and type objects, ufuncs in
kernels, helpers for both sides, device arrays, vectorize/guvectorize, sessionization), each a
program of scripts/numba_cuda checked against numpy on the CPU device, and the error messages of
what stays unsupported."""
import math

import pytest

np = pytest.importorskip("numpy")

from kernel_testing import CPU_OK, CPU_REASON, device, import_numba_cuda_scripts  # noqa: E402

pytestmark = pytest.mark.skipif(not CPU_OK, reason=CPU_REASON)

import_numba_cuda_scripts()

from pyhost import cuda  # noqa: E402
from pyhost._kernels.errors import KernelError, KernelLaunchError  # noqa: E402


@pytest.fixture(autouse=True)
def _cpu():
    with device("cpu"):
        yield


# ---- 1. barriers inside uniform branches ----------------------------------------------------

def test_tree_reduction_barriers_in_uniform_loops_and_ifs():
    import tree_reduction as t
    data, p1, p2 = t.run(100_003, extra_blocks=2)
    ref = t.numpy_reference(data)
    np.testing.assert_allclose(p1, ref, rtol=1e-12)
    np.testing.assert_allclose(p2[:ref.size], 2 * ref, rtol=1e-12)
    assert (p2[ref.size:] == 0).all()      # blocks past the data skipped the uniform if
    assert p1.sum() == pytest.approx(data.sum(), rel=1e-12)


def test_if_else_with_barriers_on_block_index():
    @cuda.jit
    def halves(a, out):
        tid = cuda.threadIdx.x
        buf = cuda.shared.array(16, np.int64)
        buf[tid] = a[cuda.grid(1)]
        cuda.syncthreads()
        if cuda.blockIdx.x % 2 == 0:
            v = buf[15 - tid]      # even blocks: reversed
            cuda.syncthreads()
            buf[tid] = v
        else:
            buf[tid] = buf[tid] * 10
        cuda.syncthreads()
        out[cuda.grid(1)] = buf[tid]

    a = np.arange(64, dtype=np.int64)
    out = np.zeros_like(a)
    halves[4, 16](a, out)
    blocks = a.reshape(4, 16)
    expect = np.stack([blocks[0, ::-1], blocks[1] * 10, blocks[2, ::-1], blocks[3] * 10])
    np.testing.assert_array_equal(out, expect.reshape(-1))


def test_barrier_under_a_test_that_differs_between_threads_fails_at_run_time():
    @cuda.jit
    def diverges(a):
        buf = cuda.shared.array(32, np.float32)
        buf[cuda.threadIdx.x] = a[cuda.grid(1)]
        n = cuda.threadIdx.x * 2
        while n < 32:  # the divergent loop
            n += 1
            cuda.syncthreads()
        a[cuda.grid(1)] = buf[0]

    with pytest.raises(ValueError) as info:
        diverges[2, 32](np.zeros(64, dtype=np.float32))
    msg = str(info.value)
    assert "the threads of a block disagree on the test of this branch or loop" in msg
    assert "the divergent loop" in msg and f"{__file__}:" in msg
    assert "make the test the same for every thread of the block, or move the barrier out" in msg


def test_barrier_in_a_for_over_a_range_per_thread_is_rejected():
    @cuda.jit
    def per_thread_range(a):
        for k in range(cuda.threadIdx.x):
            cuda.syncthreads()  # the rejected barrier
        a[cuda.grid(1)] = 1.0

    with pytest.raises(KernelError) as info:
        per_thread_range[1, 4](np.zeros(4))
    msg = str(info.value)
    assert "cuda.syncthreads() inside a for loop whose condition differs between the " \
           "threads of a block ('range(cuda.threadIdx.x)' depends on threadIdx" in msg
    assert "the rejected barrier" in msg


def test_guides_array_sum_with_its_barriers_inside_if_tid_lt_size():
    """The guide's shared-memory reduction as written: everything under 'if tid < size:'."""
    from pyhost.cuda import int32
    nelem = 16

    @cuda.jit
    def array_sum(data):
        tid = cuda.threadIdx.x
        size = len(data)
        if tid < size:
            i = cuda.grid(1)
            shr = cuda.shared.array(nelem, int32)
            shr[tid] = data[i]
            cuda.syncthreads()
            s = 1
            while s < cuda.blockDim.x:
                if tid % (2 * s) == 0:
                    shr[tid] += shr[tid + s]
                s *= 2
                cuda.syncthreads()
            if tid == 0:
                data[tid] = shr[tid]

    a = np.arange(nelem, dtype=np.int32)
    array_sum[1, nelem](a)
    assert a[0] == np.arange(nelem).sum()
    with pytest.raises(ValueError, match="disagree on the test"):   # 16 threads, 8 elements
        array_sum[1, nelem](np.arange(8, dtype=np.int32))


# ---- 2. cooperative groups ------------------------------------------------------------------

def test_grid_sync_dependent_rows_and_smoothing():
    import grid_sync as g
    m, x, ref = g.run(rows=64, cols=256, blockdim=32)
    np.testing.assert_array_equal(m, g.numpy_rows(64, 256))
    np.testing.assert_array_equal(x, g.numpy_smooth(ref, 50))


def test_max_cooperative_grid_blocks_and_too_large_launch():
    import grid_sync as g
    from pyhost.cuda._grid import MAX_THREADS
    ov = g.mirrored_rows.overloads[g.SIG]
    assert ov.max_cooperative_grid_blocks(32) == MAX_THREADS // 32
    assert ov.max_cooperative_grid_blocks((8, 8)) == MAX_THREADS // 64
    assert g.mirrored_rows.overloads["void(int32[:, :])"].argtypes == ov.argtypes
    with pytest.raises(KeyError):
        g.mirrored_rows.overloads["void(float32[:, :])"]
    m = np.zeros((4, MAX_THREADS + 32), dtype=np.int32)
    with pytest.raises(KernelLaunchError, match="max_cooperative_grid_blocks"):
        g.mirrored_rows[(MAX_THREADS + 32) // 32, 32](m)


def test_grid_group_other_than_sync_and_shared_memory_are_rejected():
    @cuda.jit
    def keeps_group(a):
        g = cuda.cg.this_grid()
        a[0] = g  # the group used as a value

    with pytest.raises(KernelError, match="cooperative group 'g' used other than as g.sync"):
        keeps_group[1, 1](np.zeros(1))

    @cuda.jit
    def shared_and_grid(a):
        buf = cuda.shared.array(4, np.float64)
        buf[cuda.threadIdx.x] = 1.0
        cuda.cg.this_grid().sync()
        a[cuda.grid(1)] = buf[0]

    with pytest.raises(KernelError) as info:
        shared_and_grid[2, 4](np.zeros(8))
    assert "cuda.shared.array in a kernel that syncs its grid" in str(info.value)
    assert "buf = cuda.shared.array(4, np.float64)" in str(info.value)


# ---- 3. cuda.reduce -------------------------------------------------------------------------

def test_cuda_reduce_host_and_device_arrays_with_init():
    import cuda_reduce as r
    res, values, ints = r.run(100_001)
    assert res["sum"] == pytest.approx(values.sum(), rel=1e-12)
    assert res["sum_init"] == pytest.approx(values.sum() + 10.0, rel=1e-12)
    assert res["sum_device"] == pytest.approx(values.sum(), rel=1e-12)
    assert res["sum_ints"] == ints.sum() and res["sum_ints"].dtype == np.int32
    assert res["max_ints"] == ints.max()
    assert res["sum_small"] == 10.0 and res["sum_empty"] == 3.0
    assert r.sum_reduce(np.arange(10.0), size=4) == 6.0
    out = cuda.device_array(1)
    assert r.sum_reduce(np.ones(300), res=out) is None and out[0] == 300.0


# ---- 4. constants and type objects ----------------------------------------------------------

def test_globals_numpy_scalars_tuples_casts_and_type_objects():
    import constants as c
    got = c.run(1000)
    ref = c.numpy_reference(1000)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-6)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[3], ref[3])
    np.testing.assert_allclose(got[4], ref[4], rtol=1e-5)
    assert got[1].dtype == np.float32


def test_signature_objects_and_strings():
    from pyhost.cuda import float32, int32, void
    assert cuda.float32(1.5) == np.float32(1.5) and isinstance(cuda.int32(7), np.int32)
    sig = void(int32[:, ::1], float32)

    @cuda.jit(sig)
    def fill(a, v):
        x, y = cuda.grid(2)
        if x < a.shape[0] and y < a.shape[1]:
            a[x, y] = int32(v * 2) + x

    a = np.zeros((5, 3), dtype=np.int32)
    fill[(1, 1), (8, 4)](a, 2.6)
    np.testing.assert_array_equal(a, 5 + np.arange(5)[:, None] + np.zeros((1, 3), np.int32))
    assert fill.overloads[(int32[:, ::1], float32)].argtypes == \
        fill.overloads["void(int32[:, ::1], float32)"].argtypes
    with pytest.raises(KernelError, match="no signature matches"):
        fill[1, 1](np.zeros((2, 2)), 1.0)


# ---- 5. ufuncs in kernels -------------------------------------------------------------------

def test_ufuncs_on_arrays_and_numbers():
    import ufuncs as u
    x, r, a, b, out, xs, ys, res = u.run(5000)
    np.testing.assert_allclose(r, np.sin(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out, (a + b) * 0.5, rtol=1e-15)
    np.testing.assert_allclose(res, u.numpy_per_element(xs, ys), rtol=1e-13)


def test_ufunc_errors():
    @cuda.jit
    def no_out(x):
        y = np.sin(x)  # an array result with nowhere to go
        x[0] = y

    with pytest.raises(KernelError) as info:
        no_out[1, 1](np.zeros(4))
    assert "needs the output array: np.sin(x, out)" in str(info.value)
    assert "an array result with nowhere to go" in str(info.value)

    @cuda.jit
    def shapes(x, out):
        np.cos(x, out)

    with pytest.raises(ValueError, match="shapes differ"):
        shapes[1, 1](np.zeros(4), np.zeros(5))


# ---- 6. helpers for both sides, forall --------------------------------------------------------

def test_plain_helper_and_device_function_on_both_sides():
    import cpu_gpu_compat as c
    dev, host = c.run(3000)
    np.testing.assert_allclose(dev, host, rtol=1e-12, atol=1e-12)
    assert c.pricing(100.0, 90.0, 1.0) == pytest.approx(
        (100 * math.exp(0.03) - 90) * math.exp(-0.03) + 0.01)
    assert c.clamp(70.0, 0.0, 50.0) == 50.0


def test_numba_jit_dispatcher_helper():
    numba = pytest.importorskip("numba")
    from tests_helpers_numba import business_logic, compute
    assert business_logic(1, 2, 3) == pytest.approx(-126.79644737231007)
    x, y, z = np.array([1, 10, 234]), np.array([2, 2, 4014]), np.array([3, 14, 2211])
    res = cuda.to_device([0.0, 0.0, 0.0])
    compute.forall(3)(res, cuda.to_device(x), cuda.to_device(y), cuda.to_device(z))
    np.testing.assert_allclose(res.copy_to_host(),
                               [business_logic.py_func(*v) for v in zip(x, y, z)], rtol=1e-12)
    assert numba is not None


# ---- 7. device arrays -----------------------------------------------------------------------

def test_device_arrays_behave_like_numba():
    import device_arrays as d
    arr, first, total, m, row = d.run()
    assert isinstance(first, np.int64) and first == 3 and total == 3 * (1 + 10 + 234 + 7)
    assert [int(v) for v in arr] == [3, 30, 702, 21]
    assert len(arr) == 4 and arr.shape == (4,) and arr.size == 4 and arr.dtype == np.int64
    assert isinstance(row, cuda.DeviceNDArray) and row.shape == (4,)
    expect = np.arange(12.0).reshape(3, 4)
    expect[1] *= 3
    np.testing.assert_array_equal(np.asarray(m), expect)
    np.testing.assert_array_equal(m.copy_to_host(), expect)
    assert str(arr) == str(np.array([3, 30, 702, 21]))
    assert isinstance(m[0], cuda.DeviceNDArray) and m[2, 3] == 11.0


# ---- 8. vectorize, guvectorize ----------------------------------------------------------------

def test_vectorize_and_guvectorize():
    import vectorize as v
    a32, b32, d, d64, g, series, means, mats, vec, aff = v.run(20_000)
    assert d.dtype == np.float32
    np.testing.assert_allclose(d, np.abs(a32 - b32) / (np.abs(a32) + np.abs(b32) + 1e-9),
                               rtol=1e-5)
    a64 = a32.astype(np.float64)
    assert isinstance(d64, cuda.DeviceNDArray)
    np.testing.assert_allclose(d64.copy_to_host(),
                               np.abs(a64 - 0.5) / (np.abs(a64) + 0.5 + 1e-9), rtol=1e-12)
    x = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(g, np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi), rtol=1e-12)
    np.testing.assert_allclose(means, np.cumsum(series, axis=1) / np.arange(1, 51), rtol=1e-12)
    np.testing.assert_allclose(aff, mats @ vec + 1.5, rtol=1e-12)
    assert v.rel_diff(np.float32(1), np.float32(3)) == pytest.approx(0.5)
    with pytest.raises(KernelLaunchError, match="no signature matches"):
        v.gauss(np.arange(3, dtype=np.complex128))


# ---- 9. sessionization ------------------------------------------------------------------------

def test_sessionize_against_numpy():
    import sessionize as s
    user, stamp, session = s.run(users=50, per_user=40)
    np.testing.assert_array_equal(session, s.numpy_reference(user, stamp))
    assert 50 < len(np.unique(session)) < user.size


# ---- the GPU path: NVRTC compiles what the programs launched ------------------------------------

GUIDE_PROGRAMS = ["tree_reduction", "grid_sync", "cuda_reduce", "constants", "ufuncs",
                  "cpu_gpu_compat", "device_arrays", "vectorize", "sessionize"]


def _launched_kernels(module):
    """The compiled kernels (one per signature and shape) of every @cuda.jit in ``module``,
    and of those the ufunc/reduce objects hold, after the program ran."""
    found = {}
    for name, obj in vars(module).items():
        disp = obj if hasattr(obj, "_compiled") else getattr(obj, "_kernel", None)
        for key, k in getattr(disp, "_compiled", {}).items():
            found[f"{module.__name__}.{name}.{len(found)}"] = k
    return found


@pytest.mark.parametrize("program", GUIDE_PROGRAMS)
def test_nvrtc_compiles_the_programs_kernels(native, program):
    if not native.nvrtc_built_in:
        pytest.skip("the native engine is built without NVRTC (no CUDA toolkit at configure time)")
    import importlib
    module = importlib.import_module(program)
    module.run()
    kernels = _launched_kernels(module)
    assert kernels, program
    for name, k in kernels.items():
        cname = k._translation_or_raise().cname
        ptx = native.nvrtc_compile(k.full_source, "compute_75", f"{cname}.cu").decode()
        assert f".entry ph_k_{cname}(" in ptx, name


def test_grid_sync_under_a_per_thread_condition_fails_at_run_time():
    @cuda.jit
    def starts_only(flags, out):
        i = cuda.grid(1)
        g = cuda.cg.this_grid()
        if flags[i] == 1:  # only the threads that start a session
            out[i] = i
            g.sync()
        out[i] += 1

    out = np.zeros(16, dtype=np.int64)
    starts_only[2, 8](np.ones(16, dtype=np.int64), out)      # all take it alike: runs
    np.testing.assert_array_equal(out, np.arange(16) + 1)
    with pytest.raises(ValueError) as info:
        starts_only[2, 8](np.arange(16, dtype=np.int64) % 2, out)
    msg = str(info.value)
    assert "the threads of a launch disagree on the test" in msg
    assert "only the threads that start a session" in msg and f"{__file__}:" in msg


def test_guides_shared_memory_matmul_with_early_return_runs_as_written():
    """The programming guide's fast_matmul: shared tiles, 'return' before the barriers."""
    from pyhost.cuda import float32
    tpb = 16

    @cuda.jit
    def fast_matmul(A, B, C):
        sA = cuda.shared.array(shape=(tpb, tpb), dtype=float32)
        sB = cuda.shared.array(shape=(tpb, tpb), dtype=float32)
        x, y = cuda.grid(2)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        bpg = cuda.gridDim.x
        if x >= C.shape[0] and y >= C.shape[1]:
            return
        tmp = 0.
        for i in range(bpg):
            sA[tx, ty] = A[x, ty + i * tpb]
            sB[tx, ty] = B[tx + i * tpb, y]
            cuda.syncthreads()
            for j in range(tpb):
                tmp += sA[tx, j] * sB[j, ty]
            cuda.syncthreads()
        C[x, y] = tmp

    rng = np.random.default_rng(1)
    a = rng.random((48, 48), dtype=np.float32)
    b = rng.random((48, 48), dtype=np.float32)
    c = np.zeros((48, 48), dtype=np.float32)
    fast_matmul[(3, 3), (tpb, tpb)](a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5)


def test_early_return_then_a_loop_bound_per_thread_fails_at_run_time():
    @cuda.jit
    def odd(a, n):
        i = cuda.grid(1)
        if i >= n:
            return
        k = i % 3
        while k < 4:
            k += 1
            cuda.syncthreads()
        a[i] = k

    with pytest.raises(ValueError, match="disagree on the test"):
        odd[1, 8](np.zeros(8), 6)


def test_float_division_by_zero_follows_numbas_cuda_error_model():
    def ratio(a, b, out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            out[i] = a[i] / b[i]

    a, b = np.array([1.0, -1.0, 0.0, 6.0]), np.array([0.0, 0.0, 0.0, 3.0])
    out = np.zeros(4)
    cuda.jit(ratio)[1, 4](a, b, out)         # inf/nan, as Numba's CUDA target gives
    assert out[0] == np.inf and out[1] == -np.inf and np.isnan(out[2]) and out[3] == 2.0
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        cuda.jit(debug=True)(ratio)[1, 4](a, b, out)


def test_loop_bound_read_from_an_array_at_a_uniform_index():
    @cuda.jit
    def rounds_from_table(table, out):
        buf = cuda.shared.array(8, np.int64)
        tid = cuda.threadIdx.x
        buf[tid] = 0
        cuda.syncthreads()
        for r in range(table[cuda.blockIdx.x]):   # the same for the whole block
            if tid == r % 8:
                buf[tid] += 1
            cuda.syncthreads()
        out[cuda.grid(1)] = buf[tid]

    table = np.array([3, 10], dtype=np.int64)
    out = np.zeros(16, dtype=np.int64)
    rounds_from_table[2, 8](table, out)
    np.testing.assert_array_equal(out, [1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 1, 1, 1, 1, 1, 1])


def test_guvectorize_on_device_arrays_and_vectorize_out():
    import vectorize as v
    d = cuda.to_device(np.arange(12.0).reshape(3, 4))
    means = v.running_mean(d)
    assert isinstance(means, cuda.DeviceNDArray)
    np.testing.assert_allclose(means.copy_to_host(),
                               np.cumsum(np.arange(12.0).reshape(3, 4), axis=1) /
                               np.arange(1, 5), rtol=1e-12)
    out = np.zeros(5)
    assert v.gauss(np.zeros(5), out=out) is out
    np.testing.assert_allclose(out, 1 / np.sqrt(2 * np.pi), rtol=1e-12)


def test_library_python_functions_are_not_taken_for_helpers():
    @cuda.jit
    def uses_linspace(a):
        a[0] = np.linspace(0, 1, 3)  # not a kernel function

    with pytest.raises(KernelError) as info:
        uses_linspace[1, 1](np.zeros(3))
    msg = str(info.value)
    assert "call to linspace() is not supported" in msg and "not a kernel function" in msg


@cuda.jit
def _heat(buf_0, buf_1, timesteps, k):
    """The guide's cooperative-groups heat equation, as written there: an early return, then
    one grid.sync() per time step, the buffers swapped by a branch."""
    i = cuda.grid(1)
    if i >= len(buf_0):
        return
    grid = cuda.cg.this_grid()
    for step in range(timesteps):
        if (step % 2) == 0:
            data = buf_0
            next_data = buf_1
        else:
            data = buf_1
            next_data = buf_0
        curr_temp = data[i]
        if i == 0:
            next_temp = curr_temp + k * (data[i + 1] - (2 * curr_temp))
        elif i == len(data) - 1:
            next_temp = curr_temp + k * (data[i - 1] - (2 * curr_temp))
        else:
            next_temp = curr_temp + k * (data[i - 1] - (2 * curr_temp) + data[i + 1])
        next_data[i] = next_temp
        grid.sync()


def test_guides_heat_equation_with_grid_sync_runs_as_written():
    data = np.zeros(301, dtype=np.float32)
    data[150] = 10000
    buf_0 = cuda.to_device(data)
    buf_1 = cuda.device_array_like(buf_0)
    _heat.forall(len(data))(buf_0, buf_1, 1000, 0.25)
    x, y, k = data.copy(), np.zeros_like(data), np.float32(0.25)
    for step in range(1000):
        src, dst = (x, y) if step % 2 == 0 else (y, x)
        dst[0] = src[0] + k * (src[1] - 2 * src[0])
        dst[-1] = src[-1] + k * (src[-2] - 2 * src[-1])
        dst[1:-1] = src[1:-1] + k * (src[:-2] - 2 * src[1:-1] + src[2:])
    np.testing.assert_allclose(buf_0.copy_to_host(), x, rtol=1e-6, atol=1e-6)
