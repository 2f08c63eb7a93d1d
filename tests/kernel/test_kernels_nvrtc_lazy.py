"""NVRTC (libnvrtc, over 100 MB) is loaded with dlopen at the first kernel compile, never at the
start of pyhost: a plain `pyhost run` does not map it, CPU kernels never need it, and a compile
in a fresh process still works."""
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

from kernel_testing import CPU_OK, CPU_REASON, HERE, NATIVE, REPO

BIN = os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))
NVRTC_BUILT = NATIVE is not None and bool(NATIVE.nvrtc_built_in)
needs_nvrtc = pytest.mark.skipif(not NVRTC_BUILT, reason="built without NVRTC (no CUDA toolkit)")

MAPPED = "'libnvrtc' in open('/proc/self/maps').read()"


@pytest.fixture(scope="module")
def pyhost_bin():
    if not pathlib.Path(BIN).is_file():
        pytest.skip(f"no pyhost binary at {BIN}")
    return BIN


def run(argv, tmp_path, env=None):
    full = dict(os.environ, PYHOST_KERNEL_CACHE=str(tmp_path / "cache"))
    full.pop("PYHOST_DEVICE", None)
    full.pop("PYHOST_NVRTC", None)
    full.update(env or {})
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=full,
                          cwd=str(HERE), timeout=180)


def test_binary_does_not_link_libnvrtc(pyhost_bin):
    readelf = shutil.which("readelf")
    if not readelf:
        pytest.skip("no readelf")
    dyn = subprocess.run([readelf, "-d", pyhost_bin], capture_output=True, text=True, check=True)
    assert "libnvrtc" not in dyn.stdout


def test_plain_run_does_not_map_libnvrtc(pyhost_bin, tmp_path):
    proc = run([pyhost_bin, "run", "-c", "print(open('/proc/self/maps').read())"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "/proc/self/maps" not in proc.stdout and "[stack]" in proc.stdout  # the maps, really
    assert "libnvrtc" not in proc.stdout


@pytest.mark.skipif(not CPU_OK, reason=CPU_REASON)
def test_cpu_kernels_do_not_load_nvrtc(pyhost_bin, tmp_path):
    code = textwrap.dedent(f"""
        import array
        import _pyhost_kernels as m
        from pyhost import _kernels as pk
        import kernel_samples as ks
        pk.set_device("cpu")
        x = array.array("f", [1.0] * 100)
        y = array.array("f", [2.0] * 100)
        ks.saxpy[100](3.0, x, y)   # compile (cache key), then again from the cache
        ks.saxpy[100](3.0, x, y)
        assert y[0] == 8.0, y[0]
        print("cuda", m.cuda_status()[0], "mapped", {MAPPED})
    """)
    proc = run([pyhost_bin, "run", "-c", code], tmp_path,
               env={"PYTHONPATH": str(HERE), "PYHOST_LIBCUDA": "/nonexistent/libcuda.so.1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["cuda", "False", "mapped", "False"]


@needs_nvrtc
def test_nvrtc_compile_in_a_fresh_process(pyhost_bin, tmp_path):
    code = textwrap.dedent(f"""
        import _pyhost_kernels as m
        import kernel_samples as ks
        before = {MAPPED}
        ptx = m.nvrtc_compile(ks.saxpy.full_source, "compute_75", "saxpy.cu").decode()
        assert ".entry ph_k_" in ptx and ".target sm_75" in ptx, ptx[:200]
        ok, status = m.nvrtc_status()
        print(before, {MAPPED}, ok)
        print(status)
    """)
    proc = run([pyhost_bin, "run", "-c", code], tmp_path, env={"PYTHONPATH": str(HERE)})
    assert proc.returncode == 0, proc.stderr
    first, status = proc.stdout.splitlines()
    assert first.split() == ["False", "True", "True"]
    assert status.startswith(f"NVRTC {NATIVE.nvrtc_version()} (") and "libnvrtc" in status


@needs_nvrtc
def test_missing_nvrtc_is_reported_and_cpu_still_works(tmp_path):
    code = textwrap.dedent("""
        import array
        import _pyhost_kernels as m
        from pyhost import _kernels as pk
        import kernel_samples as ks
        print(m.nvrtc_status())
        print(m.nvrtc_version())
        try:
            m.nvrtc_compile(ks.saxpy.full_source, "compute_75")
        except RuntimeError as exc:
            print("ERR", str(exc).splitlines()[0])
        if m.cpu_status()[0]:
            pk.set_device("cpu")
            y = array.array("f", [2.0] * 10)
            ks.saxpy[10](3.0, array.array("f", [1.0] * 10), y)
            print("cpu", y[0])
        else:
            print("cpu", 5.0)
    """)
    missing = tmp_path / "nowhere" / "libnvrtc.so.99"
    env = dict(PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]), PYHOST_NVRTC=str(missing))
    proc = run([sys.executable, "-c", code], tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("(False, 'NVRTC could not be loaded (set PYHOST_NVRTC")
    assert str(missing) in lines[0] and "No such file" in lines[0]
    assert lines[1] == "None"
    assert lines[2].startswith("ERR NVRTC could not be loaded")
    assert lines[3] == "cpu 5.0"


@needs_nvrtc
def test_nvrtc_without_the_entry_points_is_refused(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler for the stand-in libnvrtc")
    src = tmp_path / "stub.c"
    src.write_text("int nvrtcVersion(int* a, int* b) { *a = 1; *b = 0; return 0; }\n")
    stub = tmp_path / "libnvrtc.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(stub), str(src)], check=True)
    env = dict(PYTHONPATH=os.pathsep.join(sys.path), PYHOST_NVRTC=str(stub))
    proc = run([sys.executable, "-c", "import _pyhost_kernels as m; print(m.nvrtc_status()[1])"],
               tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"{stub}: lacks nvrtcGetErrorString, " in proc.stdout
    assert "nvrtcVersion," not in proc.stdout and "nvrtcCompileProgram" in proc.stdout


@needs_nvrtc
def test_first_load_from_many_threads(tmp_path):
    code = textwrap.dedent(f"""
        import threading
        import _pyhost_kernels as m
        import kernel_samples as ks
        assert not {MAPPED}
        out = []
        def compile_one():
            out.append(m.nvrtc_compile(ks.saxpy.full_source, "compute_75", "saxpy.cu"))
        threads = [threading.Thread(target=compile_one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        maps = [line for line in open("/proc/self/maps") if "libnvrtc.so" in line]
        print(len(out), len(set(out)), len({{line.split()[-1] for line in maps}}))
    """)
    env = dict(PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    proc = run([sys.executable, "-c", code], tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["4", "1", "1"]  # one library, loaded once, same PTX
