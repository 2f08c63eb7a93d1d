"""NVRTC compiles every test kernel here (no GPU needed); the CUDA driver path is exercised
through a stand-in libcuda; real GPU launches run only where a driver and a device are present."""
import array
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from pyhost import _kernels as pk
import kernel_samples as ks
from kernel_testing import HERE, NATIVE, REPO, launch

pytestmark = pytest.mark.skipif(NATIVE is None or not NATIVE.nvrtc_built_in,
                                reason="the native engine is not built, or built without NVRTC "
                                       "(no CUDA toolkit at configure time)")


def example_kernels():
    """Kernels of the user-facing examples in scripts/kernels (imported, not run)."""
    found = {}
    for path in sorted((REPO / "scripts" / "kernels").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # examples run only under __main__
        for name, obj in vars(module).items():
            if isinstance(obj, pk.Kernel):
                found[f"{path.stem}.{name}"] = obj
    return found


ALL_KERNELS = dict(ks.ALL)
ALL_KERNELS.update(example_kernels())


@pytest.mark.parametrize("name", sorted(ALL_KERNELS))
def test_nvrtc_compiles_to_ptx(native, name):
    kernel = ALL_KERNELS[name]
    cname = kernel._translate().cname
    ptx = native.nvrtc_compile(kernel.full_source, "compute_75", f"{cname}.cu")
    text = ptx.decode()
    assert ".version" in text and ".target sm_75" in text
    assert f".entry ph_k_{cname}(" in text


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_nvrtc_compiles_cubin(native, arch):
    assert int(arch[3:]) in native.nvrtc_supported_archs()
    cubin = native.nvrtc_compile(ks.mandelbrot.full_source, arch)
    assert cubin[:4] == b"\x7fELF"


def test_nvrtc_error_carries_the_log(native):
    with pytest.raises(RuntimeError, match=r"NVRTC could not compile bad\.cu for compute_75") as e:
        native.nvrtc_compile("__global__ void k() { undefined_thing(); }", "compute_75", "bad.cu")
    assert "undefined_thing" in str(e.value)
    with pytest.raises(RuntimeError, match="sm_XY or compute_XY"):
        native.nvrtc_compile("", "x86")


def test_version_and_status(native):
    assert native.nvrtc_version().split(".")[0].isdigit()
    ok, why = native.cuda_status()
    assert isinstance(ok, bool) and why


# ---- the driver path, through a stand-in libcuda ---------------------------------------------

@pytest.fixture(scope="module")
def fake_libcuda(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler for the stand-in libcuda")
    out = tmp_path_factory.mktemp("fakecuda") / "libcuda.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(out), str(HERE / "fake_libcuda.c")],
                   check=True)
    return out


def run_with_fake(fake, mode, code, tmp_path):
    log = tmp_path / "calls.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYHOST_LIBCUDA=str(fake),
               FAKE_CUDA_MODE=str(mode), FAKE_CUDA_LOG=str(log),
               PYHOST_KERNEL_CACHE=str(tmp_path / "cache"))
    env.pop("PYHOST_DEVICE", None)
    script = tmp_path / "drive.py"
    script.write_text(textwrap.dedent(code))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          cwd=str(HERE), timeout=120)
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, calls


def test_missing_driver_is_reported(native):
    ok, why = native.cuda_status()
    if ok:
        pytest.skip("a real driver is present")
    assert "libcuda.so.1" in why or "CUDA" in why


def test_driver_without_device(fake_libcuda, tmp_path):
    proc, _ = run_with_fake(fake_libcuda, 0, """
        import _pyhost_kernels as m
        from pyhost import _kernels as pk
        print(m.cuda_status())
        print(pk.get_device())
        try:
            pk.set_device("cuda")
        except pk.KernelLaunchError as exc:
            print("ERR", exc)
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ("(False, 'cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is "
                        "detected)')")
    assert lines[1] == "cpu"  # auto falls back to the CPU
    assert lines[2].startswith("ERR device 'cuda' was asked for but is not available: cuInit")


def test_driver_path_compiles_cubin_and_launches(fake_libcuda, tmp_path):
    proc, calls = run_with_fake(fake_libcuda, 1, """
        import array, json
        import _pyhost_kernels as m
        from pyhost import _kernels as pk
        import kernel_samples as ks
        assert pk.get_device() == "cuda", m.cuda_status()
        x = array.array("f", [1.0] * 1000)
        y = array.array("f", [2.0] * 1000)
        ks.saxpy[1000](3.0, x, y)
        d = pk.device_array(array.array("f", [5.0] * 1000))
        ks.saxpy[1000](3.0, x, d)
        ks.saxpy[1000](3.0, x, d)
        print(json.dumps({"device": ks.saxpy.device, "status": m.cuda_status(),
                          "y": [y[0], y[999]], "d": d.tolist()[:2], "stats": m.stats(),
                          "cache": [e["kind"] for e in m.cache_list()]}))
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["device"] == "cuda"
    assert out["status"] == [True, "Fake GPU (sm_90, driver 13.0)"]
    # The stand-in runs no code: buffers come back as they went (copied in, then out).
    assert out["y"] == [2.0, 2.0] and out["d"] == [5.0, 5.0]
    assert out["cache"] == ["cubin"] and out["stats"]["compiles"] == 1
    assert "module cubin" in calls and "function ph_k_saxpy" in calls
    assert calls.count("launch grid=4 block=256") == 3
    # plain buffers are staged at each launch (x, y; then x twice); the device array once
    assert calls.count("alloc 4000") == 2 + 2 + 1


def test_gpu_without_nvrtc_falls_back_to_cpu(fake_libcuda, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "libnvrtc.so.99"
    monkeypatch.setenv("PYHOST_NVRTC", str(missing))
    proc, calls = run_with_fake(fake_libcuda, 1, """
        import _pyhost_kernels as m
        from pyhost import _kernels as pk
        print(m.cuda_status())
        print(pk.get_device())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    status, device = proc.stdout.splitlines()
    assert status.startswith("(False, 'a GPU is present but NVRTC could not be loaded")
    assert str(missing) in status
    assert device == "cpu"


def test_launch_failure_message(fake_libcuda, tmp_path):
    proc, _ = run_with_fake(fake_libcuda, 2, """
        import array
        from pyhost import _kernels as pk
        import kernel_samples as ks
        pk.set_device("cuda")
        try:
            ks.saxpy[10](1.0, array.array("f", [1.0] * 10), array.array("f", [1.0] * 10))
        except pk.KernelError as exc:
            print(exc)
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("kernel 'saxpy': cuLaunchKernel(saxpy) failed: "
                                   "CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)")


# ---- real GPU ----------------------------------------------------------------------------------

def _gpu():
    if NATIVE is None:
        return False, "native engine not built"
    return NATIVE.cuda_status()


GPU_OK, GPU_WHY = _gpu()
needs_gpu = pytest.mark.skipif(not GPU_OK, reason=f"no CUDA device: {GPU_WHY}")


@needs_gpu
def test_gpu_saxpy_matches_reference():
    n = 100_000
    x = array.array("f", [k * 0.5 for k in range(n)])
    y = array.array("f", [1.0] * n)
    launch(ks.saxpy, "cuda", n, 2.0, x, y)
    assert y[0] == 1.0 and y[n - 1] == pytest.approx(2.0 * (n - 1) * 0.5 + 1.0)


@needs_gpu
def test_gpu_mandelbrot_and_monte_carlo_match_reference():
    w, h = 64, 48
    ref = memoryview(bytearray(w * h * 4)).cast("B").cast("i", (h, w))
    gpu = memoryview(bytearray(w * h * 4)).cast("B").cast("i", (h, w))
    launch(ks.mandelbrot, "python", (w, h), ref, -2.2, -1.2, 2.4 / h, 80)
    launch(ks.mandelbrot, "cuda", (w, h), gpu, -2.2, -1.2, 2.4 / h, 80)
    same = sum(a == b for a, b in zip(ref.cast("B").cast("i"), gpu.cast("B").cast("i")))
    assert same >= w * h - 4  # FMA contraction may move a boundary pixel by one iteration
    r = array.array("q", [0])
    g = array.array("q", [0])
    launch(ks.monte_carlo_pi, "python", 100, r, 5, 20)
    launch(ks.monte_carlo_pi, "cuda", 100, g, 5, 20)
    assert abs(r[0] - g[0]) <= 2
    out = array.array("d", [0.0] * 256)
    launch(ks.random_fill, "cuda", 256, out, 3)
    assert list(out) == [pk.random(3, i) for i in range(256)]


@needs_gpu
def test_gpu_errors_and_device_arrays():
    with pytest.raises(IndexError, match="index out of range for 'x'"):
        launch(ks.index_error, "cuda", 8, array.array("f", [0.0] * 8))
    d = pk.device_array(array.array("d", [1.0] * 1000))
    for _ in range(10):
        launch(ks.saxpy64, "cuda", 1000, 1.0, array.array("d", [1.0] * 1000), d)
    assert d.tolist()[:3] == [11.0, 11.0, 11.0]
    assert math.isclose(sum(d.tolist()), 11000.0)
