"""``from pyhost import cuda``: Numba's CUDA kernel API on the CPU device, checked against numpy,
the python reference of the xoroshiro streams, and Numba's own streams (CUDA simulator)."""
import importlib.util
import os
import subprocess
import sys

import pytest

np = pytest.importorskip("numpy")

from kernel_testing import CPU_OK, CPU_REASON, device, import_numba_cuda_scripts  # noqa: E402

pytestmark = pytest.mark.skipif(not CPU_OK, reason=CPU_REASON)

import_numba_cuda_scripts()

from pyhost import cuda  # noqa: E402
from pyhost.cuda import random as cr  # noqa: E402
from pyhost._kernels.errors import KernelError  # noqa: E402


@pytest.fixture(autouse=True)
def _cpu():
    with device("cpu"):
        yield


def test_vector_add():
    import vector_add
    x, y, out = vector_add.run(10_001)
    np.testing.assert_array_equal(out, x + y)
    assert vector_add.add_kernel.device == "cpu"


def test_pi_seed_program_matches_python_reference():
    import pi
    out = pi.run(200, threads_per_block=8, blocks=3, seed=1)
    states = cr.create_xoroshiro128p_states(24, seed=1)
    ref = []
    for t in range(24):
        inside = 0
        for _ in range(200):
            x = cr.xoroshiro128p_uniform_float32(states, t)
            y = cr.xoroshiro128p_uniform_float32(states, t)
            inside += (np.float32(x) ** 2 + np.float32(y) ** 2) <= 1.0
        ref.append(4.0 * inside / 200)
    np.testing.assert_allclose(out, np.array(ref, dtype=np.float32))
    assert abs(pi.run(2000).mean() - np.pi) < 0.01


_NUMBA_STREAMS = r"""
import sys, numpy as np
if sys.argv[1] == "numba":
    from numba import cuda
    from numba.cuda import random as r
else:
    from pyhost import cuda
    from pyhost.cuda import random as r

@cuda.jit
def k(states, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        for j in range(3):
            out[i, 4 * j] = r.xoroshiro128p_uniform_float32(states, i)
            out[i, 4 * j + 1] = r.xoroshiro128p_uniform_float64(states, i)
            out[i, 4 * j + 2] = r.xoroshiro128p_normal_float32(states, i)
            out[i, 4 * j + 3] = r.xoroshiro128p_normal_float64(states, i)

s = r.create_xoroshiro128p_states(50, seed=12345)
o = np.zeros((50, 12))
k[4, 16](s, o)
np.save(sys.argv[2], o)
"""


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")
def test_xoroshiro_streams_match_numba(tmp_path):
    script = tmp_path / "streams.py"
    script.write_text(_NUMBA_STREAMS)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYHOST_DEVICE="cpu")
    for who in ("numba", "pyhost"):
        subprocess.run([sys.executable, "-W", "ignore", str(script), who,
                        str(tmp_path / f"{who}.npy")], check=True, env=env,
                       capture_output=True, timeout=300)
    a, b = np.load(tmp_path / "numba.npy"), np.load(tmp_path / "pyhost.npy")
    uniform = [c for c in range(12) if c % 4 < 2]
    np.testing.assert_array_equal(a[:, uniform], b[:, uniform])  # same seed, same numbers
    np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)        # normals: libm ulps


def test_barrier_inside_an_if_the_threads_take_differently_fails_with_the_line():
    @cuda.jit
    def uses_shared(a):
        buf = cuda.shared.array(32, np.float32)
        buf[cuda.threadIdx.x] = a[cuda.grid(1)]
        if cuda.threadIdx.x < 16:  # the checked line
            cuda.syncthreads()
        a[cuda.grid(1)] = buf[0]

    a = np.zeros(64, dtype=np.float32)
    with pytest.raises(ValueError) as info:
        uses_shared[2, 32](a)
    msg = str(info.value)
    assert "the threads of a block disagree on the test of this branch or loop, which holds " \
           "a barrier" in msg
    assert "the checked line" in msg and f"{__file__}:" in msg
    uses_shared[2, 16](np.zeros(32, dtype=np.float32))   # all 16 threads take it: runs


def test_shared_memory_matmul_and_tree_reduction():
    import matmul
    import shared_reduction
    a, b, c = matmul.run(40, shared=True)          # 3 x 3 blocks of 16 x 16, edges guarded
    np.testing.assert_allclose(c, a @ b, rtol=1e-5)
    data, total = shared_reduction.run(10_000)
    assert total == pytest.approx(data.sum(), rel=1e-12)


def test_unsupported_construct_is_rejected():
    @cuda.jit
    def uses_print(a):
        print(a[0])  # noqa: T201

    with pytest.raises(KernelError) as info:
        uses_print[1, 1](np.zeros(1))
    assert "print" in str(info.value) and "uses_print" in str(info.value)


def test_monte_carlo_integration():
    import monte_carlo
    est = monte_carlo.mc_integrate(0.0, 1.0, 400_000, nthreads=1024)
    assert abs(est - 1 / 3) < 2e-3
    # the same numbers as the python reference of the generators: thread 5's partial sum
    out = cuda.device_array(1024, dtype=np.float64)
    states = cr.create_xoroshiro128p_states(1024, seed=3)
    monte_carlo.mc_integrator_kernel[16, 64](out, states, 0.0, 2.0, 10)
    ref_states = cr.create_xoroshiro128p_states(1024, seed=3)
    ref = sum((0.0 + cr.xoroshiro128p_uniform_float32(ref_states, 5) * 2.0) ** 2
              for _ in range(10))
    assert out.copy_to_host()[5] == pytest.approx(ref, rel=1e-12)


def test_random_grid_3d_strided():
    import random_grid
    a = random_grid.run()
    assert a.shape == (37, 50, 65) and 0.0 <= a.min() and a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.01
    # element (i, j, k) comes from thread tid = (z * sy * sx) + (y * sx) + x of its stride
    # position, at draw number (its rank among that thread's elements)
    states = cr.create_xoroshiro128p_states(512, seed=1)
    sx = sy = sz = 8
    first = cr.xoroshiro128p_uniform_float32(states, (0 * sy * sx) + (0 * sx) + 3)
    assert a[0, 0, 3] == np.float32(first)


def test_matmul_plain():
    import matmul
    a, b, c = matmul.run(40)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5)


def test_reduction_atomics_histogram_local_array():
    import reduction
    values, result, hist, sums = reduction.run(20_000)
    assert result[0] == pytest.approx(values.sum(), rel=1e-12)
    assert result[1] == values.max()
    np.testing.assert_array_equal(hist, np.histogram(values, 10, (0.0, 1.0))[0])
    np.testing.assert_allclose(sums, np.convolve(values, np.ones(4), "valid"), rtol=1e-12)


def test_laplace_stencil():
    import laplace
    np.testing.assert_array_equal(laplace.run(40, 20), laplace.numpy_reference(40, 20))


def test_explicit_signature_and_dims():
    @cuda.jit("void(float32[:, :], int64[:, :])")
    def where(a, out):
        x, y = cuda.grid(2)
        if x < a.shape[0] and y < a.shape[1]:
            out[x, y] = (cuda.blockIdx.x * 1000 + cuda.threadIdx.x * 100 +
                         cuda.blockIdx.y * 10 + cuda.threadIdx.y) + 0 * cuda.blockDim.x \
                + 0 * cuda.gridDim.y
            a[x, y] = a.size

    a = np.zeros((6, 4), dtype=np.float32)
    out = np.zeros((6, 4), dtype=np.int64)
    where[(2, 2), (3, 2)](a, out)
    x, y = np.meshgrid(np.arange(6), np.arange(4), indexing="ij")
    np.testing.assert_array_equal(out, (x // 3) * 1000 + (x % 3) * 100 + (y // 2) * 10 + y % 2)
    assert (a == 24).all()
    with pytest.raises(KernelError, match="no signature matches"):
        where[1, 1](np.zeros((2, 2)), out)


@cuda.jit(device=True)
def _draw(states, i):
    return cr.xoroshiro128p_uniform_float64(states, i)


@cuda.jit
def _draws(states, out):
    i = cuda.grid(1)
    out[i] = _draw(states, i) + cr.xoroshiro128p_uniform_float64(states, i)


def test_xoroshiro_in_device_function_and_index_errors():
    states = cr.create_xoroshiro128p_states(8, seed=9)
    out = np.zeros(8)
    _draws[2, 4](states, out)
    ref = cr.create_xoroshiro128p_states(8, seed=9)
    expect = [cr.xoroshiro128p_uniform_float64(ref, i) + cr.xoroshiro128p_uniform_float64(ref, i)
              for i in range(8)]
    np.testing.assert_array_equal(out, expect)
    with pytest.raises(IndexError, match="index out of range for 'states'"):
        _draws[2, 4](cr.create_xoroshiro128p_states(6, seed=9), out)


def test_3d_indices_and_block_mode_3d():
    @cuda.jit
    def ids(out):
        x, y, z = cuda.grid(3)
        out[x, y, z] = ((cuda.blockIdx.z * cuda.blockDim.z + cuda.threadIdx.z) * 10000 +
                        (cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y) * 100 +
                        cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x)

    @cuda.jit
    def ids_shared(out):
        buf = cuda.shared.array((2, 3, 4), np.int64)   # [tz, ty, tx]
        tx, ty, tz = cuda.threadIdx.x, cuda.threadIdx.y, cuda.threadIdx.z
        x, y, z = cuda.grid(3)
        buf[tz, ty, tx] = z * 10000 + y * 100 + x
        cuda.syncthreads()
        # each thread reads its mirror in the block: only right after the barrier
        out[x, y, z] = buf[1 - tz, 2 - ty, 3 - tx]

    shape = (8, 6, 4)
    x, y, z = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    out = np.zeros(shape, dtype=np.int64)
    ids[(2, 2, 2), (4, 3, 2)](out)
    np.testing.assert_array_equal(out, z * 10000 + y * 100 + x)
    out2 = np.zeros(shape, dtype=np.int64)
    ids_shared[(2, 2, 2), (4, 3, 2)](out2)
    mx, my, mz = (x // 4) * 4 + 3 - x % 4, (y // 3) * 3 + 2 - y % 3, (z // 2) * 2 + 1 - z % 2
    np.testing.assert_array_equal(out2, mz * 10000 + my * 100 + mx)


def test_early_return_before_barriers_and_return_after_one():
    @cuda.jit
    def early(a):
        i = cuda.grid(1)
        if i >= a.size:
            return
        cuda.syncthreads()
        a[i] = 1.0

    a = np.zeros(6)
    early[2, 4](a)     # threads 6 and 7 leave; the others pass the barrier
    assert (a == 1.0).all()

    @cuda.jit
    def late(a):
        i = cuda.grid(1)
        cuda.syncthreads()
        if i >= a.size:
            return
        a[i] = 1.0

    with pytest.raises(KernelError, match="return in a kernel with cuda.syncthreads"):
        late[1, 4](np.zeros(4))
