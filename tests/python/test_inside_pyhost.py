"""Python-side tests that run *inside* pyhost (ctest runs `pyhost run -m pytest tests/python`)."""
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pyhost


def square(x):
    return x * x


def test_runs_inside_the_host():
    assert "pyhost._host" in sys.modules


def test_single_serial_task_context():
    assert (pyhost.mode, pyhost.task_id, pyhost.worker_id, pyhost.workers, pyhost.tasks) == (
        "serial", 0, 0, 1, 1)


def test_real_streams_in_plain_python_mode():
    assert sys.stdout is sys.__stdout__ or hasattr(sys.stdout, "fileno")


def test_unknown_attribute_raises_attribute_error():
    try:
        pyhost.no_such_thing
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_process_pool_from_inside_the_host():
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(square, range(5))) == [0, 1, 4, 9, 16]


def test_spawn_start_method_uses_a_real_python():
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        assert pool.map(square, [3, 4]) == [9, 16]


def test_sys_executable_runs_python():
    out = subprocess.run([sys.executable, "-c", "import sys; print(sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sys.version_info[:2])
