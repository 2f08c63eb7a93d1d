"""The native engine: buffers and argument checks, the disk cache, threads and sub-interpreters."""
import array
import importlib.util
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import warnings

import pytest

from pyhost import _kernels as pk
import kernel_samples as ks
from kernel_testing import device, launch, needs_cpu

pytestmark = needs_cpu


def kernel_module(tmp_path, name, body, filename=None):
    """Imports `body` as module `name` (from `filename`.py: the generated source, hence the cache
    key, names the file)."""
    path = tmp_path / f"{filename or name}.py"
    path.write_text("from pyhost import _kernels as pk\nfrom pyhost._kernels import *\n" +
                    textwrap.dedent(body))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- arguments ---------------------------------------------------------------------------------

BAD_ARGS = [
    ("format", lambda x: (1.0, array.array("d", [1, 2]), x)),
    ("read-only", lambda x: (1.0, x, memoryview(bytes(8)).cast("f"))),
    ("ndim", lambda x: (1.0, memoryview(bytearray(16)).cast("f", (2, 2)), x)),
    ("not a buffer", lambda x: (1.0, [1.0, 2.0], x)),
    ("number", lambda x: ("2", x, x)),
    ("contiguous", lambda x: (1.0, memoryview(array.array("f", [1, 2, 3, 4]))[::2], x)),
]


@pytest.mark.parametrize("case,make", BAD_ARGS, ids=[c for c, _ in BAD_ARGS])
def test_argument_errors_match_the_reference(case, make):
    messages = []
    for dev in ("python", "cpu"):
        x = array.array("f", [1, 2])
        with device(dev), pytest.raises(pk.KernelLaunchError) as info:
            ks.saxpy[2](*make(x))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("kernel 'saxpy': argument '")


def test_integer_argument_range_matches_the_reference():
    out = memoryview(bytearray(4)).cast("i", (1, 1))
    messages = []
    for dev in ("python", "cpu"):
        with device(dev), pytest.raises(pk.KernelLaunchError) as info:
            ks.mandelbrot[1, 1](out, 0.0, 0.0, 1.0, 2 ** 31)
        messages.append(str(info.value))
    assert messages[0] == messages[1] == (
        "kernel 'mandelbrot': argument 'max_iter' = 2147483648 does not fit in i32")


def test_buffer_kinds():
    # memoryview with a multi-dimensional cast
    out = memoryview(bytearray(6 * 4 * 4)).cast("B").cast("i", (4, 6))
    launch(ks.mandelbrot, "cpu", (6, 4), out, -2.0, -1.0, 0.5, 20)
    assert out[0, 0] >= 1
    # bytearray is a u8 buffer
    img = bytearray(12)
    launch(ks.mandelbrot_inline, "cpu", (4, 3), memoryview(img).cast("B", (3, 4)), -2.0, -1.0,
           0.5, 20)
    assert any(img)
    # bytes are fine where the kernel only reads
    data = array.array("d", [1.5]).tobytes()
    res = array.array("d", [0.0])
    launch(ks.tiny_read, "cpu", 1, memoryview(data).cast("d"), res)
    assert res[0] == 3.0


def test_numpy_arrays():
    np = pytest.importorskip("numpy")
    x = np.arange(1000, dtype=np.float32)
    y = np.ones(1000, dtype=np.float32)
    launch(ks.saxpy, "cpu", 1000, 2.0, x, y)
    assert np.array_equal(y, 2 * np.arange(1000, dtype=np.float32) + 1)
    img = np.zeros((8, 10), dtype=np.int32)
    launch(ks.mandelbrot, "cpu", (10, 8), img, -2.0, -1.0, 0.25, 30)
    ref = np.zeros((8, 10), dtype=np.int32)
    launch(ks.mandelbrot, "python", (10, 8), ref, -2.0, -1.0, 0.25, 30)
    assert np.array_equal(img, ref)
    with device("cpu"), pytest.raises(pk.KernelLaunchError, match="C-contiguous"):
        ks.mandelbrot[5, 8](img[:, ::2], -2.0, -1.0, 0.25, 30)
    with device("cpu"), pytest.raises(pk.KernelLaunchError, match="format 'l'"):
        ks.saxpy[3](1.0, np.zeros(3, dtype=np.int64), y)
    ints = np.array([5, 6, 7], dtype=np.int64)  # numpy int64 is format 'l'
    total = np.zeros(1, dtype=np.int64)
    launch(ks.atomic_sum_int, "cpu", 3, ints, total)
    assert total[0] == 18


def test_device_array_on_cpu():
    arr = pk.device_array(array.array("f", [1, 2, 3]))
    launch(ks.saxpy, "cpu", 3, 2.0, array.array("f", [1, 1, 1]), arr)
    launch(ks.saxpy, "python", 3, 1.0, array.array("f", [1, 1, 1]), arr)
    assert arr.tolist() == [4.0, 5.0, 6.0]
    z = pk.device_array((2, 3), dtype=pk.i32)
    assert z.to_host().tolist() == [[0, 0, 0], [0, 0, 0]]


# ---- cache -------------------------------------------------------------------------------------

def cache_entries(native, name):
    return [e for e in native.cache_list() if e["name"] == name]


def test_cache_directory_is_private(native, tmp_path, monkeypatch):
    target = tmp_path / "a" / "b" / "kernels"
    monkeypatch.setenv("PYHOST_KERNEL_CACHE", str(target))
    path, why = native.cache_dir()
    assert path == str(target) and why == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    monkeypatch.setenv("PYHOST_KERNEL_CACHE", str(loose))
    path, why = native.cache_dir()
    assert path is None and "writable by group or others" in why


def test_cache_hit_across_processes(tmp_path):
    script = tmp_path / "cached.py"
    script.write_text(textwrap.dedent("""
        import array, json, sys
        from pyhost import _kernels as pk
        import _pyhost_kernels

        @pk.kernel
        def add_seven_and_a_bit(x: pk.f64[:]):
            i = pk.tid()
            x[i] = x[i] + 7.125

        x = array.array("d", [1.0, 2.0])
        pk.set_device("cpu")
        add_seven_and_a_bit[2](x)
        print(json.dumps({"x": list(x), "stats": _pyhost_kernels.stats()}))
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
               PYHOST_KERNEL_CACHE=str(tmp_path / "cache"))
    runs = [json.loads(subprocess.run([sys.executable, str(script)], env=env, check=True,
                                      capture_output=True, text=True).stdout)
            for _ in range(2)]
    assert runs[0]["x"] == runs[1]["x"] == [8.125, 9.125]
    assert runs[0]["stats"]["compiles"] == 1 and runs[0]["stats"]["disk_hits"] == 0
    assert runs[1]["stats"]["compiles"] == 0 and runs[1]["stats"]["disk_hits"] == 1


def test_damaged_or_unsafe_entries_are_never_loaded(native, tmp_path, monkeypatch):
    monkeypatch.setenv("PYHOST_KERNEL_CACHE", str(tmp_path / "cache"))
    body = """
        @pk.kernel
        def plus_one_{n}(x: f64[:]):
            i = pk.tid()
            x[i] = x[i] + 1.0
    """
    mod = kernel_module(tmp_path, "tamper_a", body.format(n=0), "tamper")
    x = array.array("d", [1.0])
    launch(mod.plus_one_0, "cpu", 1, x)
    (entry,) = cache_entries(native, "plus_one_0")
    payload = entry["path"]
    # 1. altered payload: the recorded SHA-256 no longer matches -> rebuilt, with a warning
    with open(payload, "ab") as f:
        f.write(b"\0")
    native._forget_loaded()
    before = native.stats()["compiles"]
    mod = kernel_module(tmp_path, "tamper_b", body.format(n=0), "tamper")
    with pytest.warns(RuntimeWarning, match="does not match its recorded SHA-256"):
        launch(mod.plus_one_0, "cpu", 1, x)
    assert native.stats()["compiles"] == before + 1 and x[0] == 3.0
    # 2. a payload writable by others is refused
    os.chmod(payload, 0o666)
    native._forget_loaded()
    mod = kernel_module(tmp_path, "tamper_c", body.format(n=0), "tamper")
    with pytest.warns(RuntimeWarning, match="writable by group or others"):
        launch(mod.plus_one_0, "cpu", 1, x)
    assert native.stats()["compiles"] == before + 2
    assert stat.S_IMODE(os.stat(payload).st_mode) == 0o600  # rebuilt entry replaced it
    # 3. an intact entry loads silently from disk
    native._forget_loaded()
    hits = native.stats()["disk_hits"]
    mod = kernel_module(tmp_path, "tamper_d", body.format(n=0), "tamper")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        launch(mod.plus_one_0, "cpu", 1, x)
    assert native.stats()["disk_hits"] == hits + 1 and x[0] == 5.0


def test_failed_builds_are_not_cached(native, tmp_path, monkeypatch):
    monkeypatch.setenv("PYHOST_KERNEL_CACHE", str(tmp_path / "cache"))
    bad = 'extern "C" void ph_c_broken(void) { this is not C++; }'
    with pytest.raises(RuntimeError, match="C\\+\\+ compiler .* failed") as info:
        native.compile_cpu("broken", "broken", bad, ())
    assert "error" in str(info.value)
    assert native.cache_list() == []
    assert not [p for p in (tmp_path / "cache").iterdir()]  # no temp files left


def test_cache_off(native, tmp_path, monkeypatch):
    monkeypatch.setenv("PYHOST_KERNEL_CACHE", "off")
    assert native.cache_dir()[0] is None
    mod = kernel_module(tmp_path, "nocache", """
        @pk.kernel
        def times_three(x: f64[:]):
            i = pk.tid()
            x[i] = x[i] * 3.0
    """)
    x = array.array("d", [2.0])
    launch(mod.times_three, "cpu", 1, x)
    assert x[0] == 6.0


def test_cache_list_and_clear(native, tmp_path, monkeypatch):
    monkeypatch.setenv("PYHOST_KERNEL_CACHE", str(tmp_path / "cache"))
    mod = kernel_module(tmp_path, "listing", """
        @pk.kernel
        def listed(x: f64[:]):
            x[0] = 1.0
    """)
    launch(mod.listed, "cpu", 1, array.array("d", [0.0]))
    (entry,) = native.cache_list()
    assert entry["name"] == "listed" and entry["kind"] == "so" and entry["size"] > 0
    assert len(entry["key"]) == 64
    assert native.cache_clear() == 1
    assert native.cache_list() == []


# ---- threads and interpreters ------------------------------------------------------------------

def test_thread_count_setting(native):
    default = native.cpu_threads()
    try:
        native.set_cpu_threads(1)
        assert native.cpu_threads() == 1
        y = array.array("f", [1.0]) * 100_000
        launch(ks.saxpy, "cpu", 100_000, 1.0, array.array("f", [1.0]) * 100_000, y)
        assert set(y) == {2.0}
    finally:
        native.set_cpu_threads(0)
    assert native.cpu_threads() == default


def test_pool_spreads_a_launch_over_threads(native):
    try:
        native.set_cpu_threads(2)
        assert native._pool_probe(64) == 2  # sleeping chunks: the worker gets its share
        native.set_cpu_threads(1)
        assert native._pool_probe(8) == 1
    finally:
        native.set_cpu_threads(0)


def test_kernel_from_threads_and_subinterpreters_at_once():
    interpreters = pytest.importorskip("_interpreters")
    n = 50_000
    errors = []

    def from_thread(k):
        try:
            for _ in range(20):
                x = array.array("f", [float(k)]) * n
                y = array.array("f", [1.0]) * n
                ks.saxpy[n](2.0, x, y)
                assert y[0] == y[n - 1] == 2.0 * k + 1.0
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    sub_code = textwrap.dedent(f"""
        import sys
        sys.path[:0] = {sys.path!r}
        import array
        from pyhost import _kernels as pk
        import kernel_samples as ks
        pk.set_device("cpu")
        for k in range(20):
            x = array.array("f", [float(k)]) * {n}
            y = array.array("f", [1.0]) * {n}
            ks.saxpy[{n}](2.0, x, y)
            assert ks.saxpy.device == "cpu"
            assert y[0] == y[{n} - 1] == 2.0 * k + 1.0, (k, y[0])
    """)
    results = []

    def from_interpreter():
        interp = interpreters.create("isolated")  # own GIL
        try:
            results.append(interpreters.exec(interp, sub_code))
        finally:
            interpreters.destroy(interp)

    pk.set_device("cpu")
    try:
        workers = [threading.Thread(target=from_thread, args=(k,)) for k in range(3)]
        workers += [threading.Thread(target=from_interpreter) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        pk.set_device("auto")
    assert not errors, errors
    assert results == [None, None], results


def test_processes_after_fork():
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    launch(ks.saxpy, "cpu", 10_000, 1.0, array.array("f", [1.0]) * 10_000,
           array.array("f", [0.0]) * 10_000)  # the pool exists in the parent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded, use of fork()"
        pid = os.fork()
    if pid == 0:  # child: a fresh pool must work
        try:
            y = array.array("f", [0.0]) * 100_000
            ks.saxpy[100_000](3.0, array.array("f", [1.0]) * 100_000, y)
            os._exit(0 if set(y) == {3.0} else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
