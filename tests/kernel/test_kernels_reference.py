"""The python reference device, the RNG, casts and argument checks (no native engine needed)."""
import array
import math
import os
import subprocess
import sys

import pytest

from pyhost import _kernels as pk
from pyhost._kernels import builtins as kb
import kernel_samples as ks
from kernel_testing import REPO, device, launch


# Known-answer vectors of Philox-4x32-10 from Random123 (kat_vectors).
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr,key,expected", PHILOX_KAT)
def test_philox_known_answers(ctr, key, expected):
    assert kb.philox4x32(ctr, key) == expected


def test_random_is_uniform_and_deterministic():
    values = [pk.random(42, c) for c in range(4000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert values == [pk.random(42, c) for c in range(4000)]
    assert values[:10] != [pk.random(43, c) for c in range(10)]
    mean = sum(values) / len(values)
    assert abs(mean - 0.5) < 0.02
    # 53 bits: values are multiples of 2**-53
    assert all((v * 2.0 ** 53).is_integer() for v in values[:100])
    assert pk.random(-1, -1) == pk.random(2 ** 64 - 1, 2 ** 64 - 1)


def test_tid_outside_a_launch():
    with pytest.raises(RuntimeError, match="inside a kernel launch"):
        pk.tid()


def test_python_device_runs_the_original_function():
    x = array.array("f", [1, 2, 3])
    y = array.array("f", [10, 20, 30])
    launch(ks.saxpy, "python", 3, 2.0, x, y)
    assert list(y) == [12.0, 24.0, 36.0]
    assert ks.saxpy.device == "python"


def test_python_device_2d_order_and_3d():
    out = memoryview(bytearray(4 * 2 * 3 * 4)).cast("B").cast("i", (4, 3, 2))
    launch(ks.grid3d, "python", (2, 3, 4), out)
    assert out[3, 2, 1] == 1 + 20 + 300 + 4000 + 30000
    assert out[0, 0, 0] == 4000 + 30000


@pytest.mark.parametrize("t,value,expected", [
    (pk.i32, 2 ** 31, -2 ** 31), (pk.i32, -1.9, -1), (pk.u8, 300, 44), (pk.u8, -1, 255),
    (pk.u32, -1, 2 ** 32 - 1), (pk.i64, 2 ** 63, -2 ** 63), (pk.boolean, 2, True),
    (pk.f32, 0.1, 0.10000000149011612), (pk.f64, 3, 3.0), (pk.f32, 1e300, math.inf),
])
def test_scalar_casts(t, value, expected):
    assert t(value) == expected


def test_argument_checks_on_python_device():
    x = array.array("f", [1, 2])
    with device("python"):
        with pytest.raises(pk.KernelLaunchError, match="argument 'x' must hold f32 elements "
                                                       r"\(buffer format 'f'\), got format 'd'"):
            ks.saxpy[2](1.0, array.array("d", [1, 2]), x)
        with pytest.raises(pk.KernelLaunchError, match="argument 'y' is read-only"):
            ks.saxpy[2](1.0, x, memoryview(bytes(8)).cast("f"))
        with pytest.raises(pk.KernelLaunchError, match="argument 'x' must have 1 dimension"):
            ks.saxpy[2](1.0, memoryview(bytearray(16)).cast("f", (2, 2)), x)
        with pytest.raises(pk.KernelLaunchError, match="argument 'x' must be a buffer of f32"):
            ks.saxpy[2](1.0, [1.0, 2.0], x)
        with pytest.raises(pk.KernelLaunchError, match="argument 'a' must be a number"):
            ks.saxpy[2]("2", x, x)
        with pytest.raises(pk.KernelLaunchError, match="argument 'max_iter' must be an integer"):
            ks.mandelbrot[1, 1](memoryview(bytearray(4)).cast("i", (1, 1)), 0.0, 0.0, 1.0, 2.5)
        with pytest.raises(pk.KernelLaunchError, match="= 4294967296 does not fit in i32"):
            ks.mandelbrot[1, 1](memoryview(bytearray(4)).cast("i", (1, 1)), 0.0, 0.0, 1.0,
                                2 ** 32)
        with pytest.raises(pk.KernelLaunchError, match="must be C-contiguous"):
            ks.saxpy[1](1.0, memoryview(array.array("f", [1, 2, 3, 4]))[::2], x)


def test_index_and_zero_division_errors_on_python_device():
    with device("python"):
        with pytest.raises(IndexError):
            ks.index_error[3](array.array("f", [0, 0, 0]))
        with pytest.raises(ZeroDivisionError):
            ks.zero_division[2](array.array("q", [4, 4]), array.array("q", [1, 0]))


def test_device_selection_from_environment():
    code = ("import sys; from pyhost import _kernels as pk; print(pk.get_device())")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYHOST_DEVICE="python")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "python"
    env["PYHOST_DEVICE"] = "tpu"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "unknown kernel device 'tpu'" in out.stderr


def test_set_device_validates():
    with pytest.raises(ValueError, match="unknown kernel device"):
        pk.set_device("gpu")
    pk.set_device("python")
    assert pk.get_device() == "python"
    pk.set_device("auto")


def test_cuda_request_without_driver_is_a_clear_error():
    ok, why = pk.get_device.__globals__["cuda_status"]()
    if ok:
        pytest.skip("a CUDA device is present")
    with pytest.raises(pk.KernelLaunchError, match="device 'cuda' was asked for but is not "
                                                   "available"):
        pk.set_device("cuda")
    pk.set_device("auto")


def test_import_pyhost_kernels_is_light():
    code = ("import sys; from pyhost import _kernels as pk; pk.f32; pk.tid; "
            "print('ast' in sys.modules, 'inspect' in sys.modules); pk.kernel; "
            "print('ast' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(REPO / "runtime"))
    out = subprocess.run([sys.executable, "-I", "-S", "-c",
                          f"import sys; sys.path.insert(0, {str(REPO / 'runtime')!r}); {code}"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]
