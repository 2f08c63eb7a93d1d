"""pyhost.Executor and pyhost.Channel, end to end: scripts run by `pyhost run` (and plain python)."""
import os
import textwrap

import pytest

from pyhost_testing import REPO, run_pyhost

MODES = ["subinterpreters", "processes", "threads"]
POOL_MODES = ["subinterpreters", "processes"]


def script(tmp_path, source, name="main.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def run(path, *, mode="subinterpreters", args=(), timeout=120):
    return run_pyhost(["run", *args, path], env={"MODE": mode}, timeout=timeout)


COMMON = """
    import os, sys, time, queue, pickle, dataclasses, concurrent.futures as cf
    import pyhost

    MODE = os.environ["MODE"]

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    class Custom(Exception):
        pass

    def square(x):
        return x * x

    def add(a, b, scale=1):
        return (a + b) * scale

    def flip(p):
        return Point(p.y, p.x)

    def fail(x):
        raise ValueError(f"bad value {x}")

    def fail_custom():
        raise Custom("from the worker")

    def wait_on(channel):
        return channel.get()
"""


@pytest.mark.parametrize("mode", MODES)
def test_map_and_submit_with_main_script_functions_and_classes(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        with pyhost.Executor(MODE, workers=2) as ex:
            print(ex.mode, ex.workers)
            print(list(ex.map(square, range(10))))
            print(list(ex.map(square, range(7), chunksize=1)))
            print(list(ex.map(add, [1, 2, 3], [10, 20, 30], chunksize=2)))
            print(ex.submit(add, 2, 3, scale=10).result())
            print(ex.submit(flip, Point(1, 2)).result())
            futures = [ex.submit(square, i) for i in range(20)]
            print(sorted(f.result() for f in cf.as_completed(futures)))
            done, not_done = cf.wait(futures)
            print(len(done), len(not_done))
            print(list(ex.map(square, [])))
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{mode} 2\n[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n[0, 1, 4, 9, 16, 25, 36]\n[11, 22, 33]\n50\n"
        "Point(x=2, y=1)\n" + str(sorted(i * i for i in range(20))) + "\n20 0\n[]\n")
    assert result.stderr == ""


@pytest.mark.parametrize("mode", MODES)
def test_exceptions_keep_type_message_and_remote_traceback(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    class Unpicklable(Exception):
        def __init__(self):
            super().__init__("cannot travel")
            self.lock = __import__("threading").Lock()

    def fail_unpicklable():
        raise Unpicklable()

    if __name__ == "__main__":
        with pyhost.Executor(MODE, workers=2) as ex:
            try:
                ex.submit(fail, 7).result()
            except ValueError as exc:
                print("ValueError:", exc)
                if MODE != "threads":
                    print("remote:", "in fail" in str(exc.__cause__), "bad value 7" in exc.remote_traceback)
            try:
                ex.submit(fail_custom).result()
            except Custom as exc:
                print("Custom:", exc)
            try:
                list(ex.map(fail, [1, 2], chunksize=1))
            except ValueError as exc:
                print("map:", exc)
            error = ex.submit(fail_unpicklable).exception()
            print(type(error).__name__, "cannot travel" in str(error))
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "ValueError: bad value 7"
    if mode != "threads":
        assert lines[1] == "remote: True True"
        assert lines[-1] == "RemoteError True"
    else:
        assert lines[-1] == "Unpicklable True"
    assert "Custom: from the worker" in lines
    assert "map: bad value 1" in lines


def test_a_crashing_process_worker_fails_only_its_call_and_is_replaced(tmp_path):
    path = script(tmp_path, COMMON + """
    import signal

    def crash_on(x, bad):
        if x == bad:
            os.kill(os.getpid(), signal.SIGSEGV)
        return x

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=2) as ex:
            futures = [ex.submit(crash_on, i, 5) for i in range(12)]
            for i, future in enumerate(futures):
                try:
                    print(i, future.result())
                except pyhost.WorkerCrashed as exc:
                    print(i, "crashed", exc.signal, "SIGSEGV" in str(exc))
            seen = []
            try:
                for value in ex.map(crash_on, range(8), [3] * 8, chunksize=1):
                    seen.append(value)
            except pyhost.WorkerCrashed as exc:
                print("map stopped after", seen, "signal", exc.signal)
            print(list(ex.map(square, range(5))))
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    expected = [f"{i} {i}" if i != 5 else "5 crashed 11 True" for i in range(12)]
    lines = result.stdout.splitlines()
    assert lines[:12] == expected
    assert lines[12] == "map stopped after [0, 1, 2] signal 11"
    assert lines[13] == "[0, 1, 4, 9, 16]"


def test_a_worker_killed_mid_map_with_chunks_fails_that_chunk(tmp_path):
    path = script(tmp_path, COMMON + """
    def die_on(x):
        if x == 10:
            os._exit(7)
        return x

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=2) as ex:
            results = ex.map(die_on, range(40), chunksize=5)
            got = []
            try:
                for value in results:
                    got.append(value)
            except pyhost.WorkerCrashed as exc:
                print("crashed after", len(got), "exit", exc.exitcode, exc.signal)
            print(sum(ex.map(square, range(100))))
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"crashed after 10 exit 7 None\n{sum(i * i for i in range(100))}\n"


@pytest.mark.parametrize("mode", POOL_MODES)
def test_shutdown_cancels_pending_futures(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        gate = pyhost.Channel()
        ex = pyhost.Executor(MODE, workers=1)
        futures = [ex.submit(wait_on, gate) for _ in range(6)]
        ex.shutdown(wait=False, cancel_futures=True)
        try:
            ex.submit(square, 1)
        except RuntimeError as exc:
            print("refused:", exc)
        for i in range(6):
            gate.put(i)
        ex.shutdown(wait=True)
        states = ["cancelled" if f.cancelled() else f.result() for f in futures]
        ran = [s for s in states if s != "cancelled"]
        print(states[:len(ran)] == list(range(len(ran))), 1 <= len(ran) <= 2, states.count("cancelled") >= 4)
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "refused: cannot schedule new futures after shutdown\nTrue True True\n"


@pytest.mark.parametrize("mode", POOL_MODES)
def test_map_timeout_raises_timeout_error(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        gate = pyhost.Channel()
        with pyhost.Executor(MODE, workers=2) as ex:
            try:
                list(ex.map(wait_on, [gate, gate], timeout=0.3))
            except TimeoutError:
                print("timed out")
            gate.put(1)
            gate.put(2)
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "timed out\n"


@pytest.mark.parametrize("mode", POOL_MODES)
def test_unpicklable_calls_fail_with_a_clear_message(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        with pyhost.Executor(MODE, workers=1) as ex:
            error = ex.submit(lambda: 1).exception()
            print(type(error).__name__)
            print(error)
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    name, message = result.stdout.splitlines()[:2]
    assert name == "PicklingError"
    assert "cannot send the call of <lambda> to a worker" in message
    assert "define" in message and "module level" in message


@pytest.mark.parametrize("mode", POOL_MODES)
def test_channel_between_workers_and_the_script(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    def produce(channel, n):
        for i in range(n):
            channel.put({"item": i})
        channel.put(bytearray(b"raw"))
        return "done"

    def consume(channel):
        return [item for item in channel]

    if __name__ == "__main__":
        items = pyhost.Channel(maxsize=3)
        with pyhost.Executor(MODE, workers=2) as ex:
            consumer = ex.submit(consume, items)
            print(ex.submit(produce, items, 50).result())
            items.close()
            got = consumer.result(timeout=60)
            print(len(got), got[0], got[-2], got[-1], type(got[-1]).__name__)
        small = pyhost.Channel(1)
        small.put(b"x")
        try:
            small.put(b"y", timeout=0.05)
        except queue.Full:
            print("full", small.full(), small.qsize())
        print(small.get_nowait())
        try:
            small.get(timeout=0.05)
        except queue.Empty:
            print("empty", small.empty())
        small.close()
        try:
            small.put(1)
        except pyhost.ChannelClosed as exc:
            print("closed:", exc)
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("done\n51 {'item': 0} {'item': 49} b'raw' bytes\nfull True 1\nb'x'\n"
                             "empty True\nclosed: put() on a closed channel\n")


def test_plain_python_without_the_extension_falls_back_to_threads_and_says_so(tmp_path, python_exe):
    """No `_pyhost_subinterpreters` for this python (runtime/ alone on PYTHONPATH: an older
    build, a python it was not built for): threads, with a warning that says why. With it, see
    test_executor_plain_python.py."""
    import subprocess

    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        with pyhost.Executor("subinterpreters", workers=2) as ex:
            print(ex.mode, list(ex.map(square, range(5))))
        channel = pyhost.Channel(2)
        channel.put(b"abc")
        channel.close()
        print(list(channel))
    """)
    env = dict(os.environ, MODE="subinterpreters", PYTHONPATH=str(REPO / "runtime"))
    result = subprocess.run([python_exe, str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "threads [0, 1, 4, 9, 16]\n[b'abc']\n"
    assert "RuntimeWarning: pyhost.Executor: not running under pyhost and no extension " \
           "_pyhost_subinterpreters for this python (No module named '_pyhost_subinterpreters'), " \
           "so mode 'subinterpreters' falls back to threads" in result.stderr


def test_plain_python_gets_process_workers_of_the_pyhost_program(tmp_path, python_exe):
    """Executor("processes") in an ordinary interpreter (docs/install.md): the workers are
    `pyhost run -c` processes of the program pyhost._binary finds (here PYHOST_EXE), with the
    main script's functions and classes, worker errors, their output, and a Channel of this
    interpreter passed to them (its operations served by the executor)."""
    import subprocess

    from pyhost_testing import pyhost_bin

    path = script(tmp_path, COMMON + """
    def fill(channel, n):
        for i in range(n):
            channel.put({"item": i})
        print("filled", n, flush=True)
        return os.getpid()

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=2) as ex:
            print(ex.mode, list(ex.map(square, range(5))), ex.submit(flip, Point(1, 2)).result())
            try:
                ex.submit(fail, 7).result()
            except ValueError as error:
                print("error:", error)
            channel = pyhost.Channel(3)
            worker_pid = ex.submit(fill, channel, 5)
            got = [channel.get()["item"] for _ in range(5)]
            print(got, worker_pid.result() != os.getpid())
    """)
    env = dict(os.environ, MODE="processes", PYTHONPATH=str(REPO / "runtime"), PYHOST_EXE=pyhost_bin())
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run([python_exe, str(path)], capture_output=True, text=True, env=env,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("processes [0, 1, 4, 9, 16] Point(x=2, y=1)\nerror: bad value 7\n"
                             "filled 5\n[0, 1, 2, 3, 4] True\n")
    assert result.stderr == ""


@pytest.mark.parametrize("mode", POOL_MODES)
def test_a_script_without_main_guard_gets_a_clear_error_not_a_fork_bomb(tmp_path, mode):
    path = script(tmp_path, """
    import os
    import pyhost

    def square(x):
        return x * x

    with pyhost.Executor(os.environ["MODE"], workers=1) as ex:
        print(ex.submit(square, 3).result())
    """)
    result = run(path, mode=mode, timeout=60)
    assert result.returncode == 1
    assert 'create executors under `if __name__ == "__main__":`' in result.stderr


@pytest.mark.parametrize("mode", POOL_MODES)
def test_an_executor_never_shut_down_does_not_hang_the_script(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        ex = pyhost.Executor(MODE, workers=2)
        print(ex.submit(square, 4).result())
    """)
    result = run(path, mode=mode, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "16\n"


@pytest.mark.parametrize("host_mode", ["threads", "subinterpreters", "processes"])
def test_executors_inside_tasks_of_every_host_mode(tmp_path, host_mode):
    path = script(tmp_path, COMMON + """
    if __name__ == "__main__":
        with pyhost.Executor(MODE, workers=2) as ex:
            print("task", pyhost.task_id, sum(ex.map(square, range(100))))
    """)
    for mode in POOL_MODES:
        result = run(path, mode=mode, args=("--mode", host_mode, "-j", "2", "--output", "grouped"))
        assert result.returncode == 0, result.stderr
        total = sum(i * i for i in range(100))
        assert sorted(line.split("] ")[-1] for line in result.stdout.splitlines() if "task" in line) == \
            [f"task 0 {total}", f"task 1 {total}"]


def test_bad_arguments_are_refused(tmp_path):
    path = script(tmp_path, COMMON + """
    for bad in [dict(mode="fibers"), dict(workers=0), dict(workers=1.5),
                dict(mode="mpi", local="threads")]:
        try:
            pyhost.Executor(**bad)
        except ValueError as exc:
            print(exc)
    try:
        pyhost.Executor("threads", workers=1).map(square, [1], chunksize=0)
    except ValueError as exc:
        print(exc)
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("unknown mode 'fibers': choose one of subinterpreters, processes, threads, freethreaded, mpi\n"
                             "workers must be a positive integer, not 0\n"
                             "workers must be a positive integer, not 1.5\n"
                             "unknown local mode 'threads' for mode 'mpi': choose one of subinterpreters, processes\n"
                             "chunksize must be >= 1.\n")


@pytest.mark.parametrize("mode", POOL_MODES)
def test_a_result_the_script_cannot_rebuild_fails_that_call_only(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    from pyhost._executor import worker as _executor_worker

    def rebuild(in_worker):
        if not _executor_worker.in_worker:
            raise RuntimeError("cannot rebuild this result here")
        return "rebuilt"

    class Fragile:
        def __reduce__(self):
            return rebuild, (True,)

    def make_fragile():
        return Fragile()

    if __name__ == "__main__":
        with pyhost.Executor(MODE, workers=1) as ex:
            error = ex.submit(make_fragile).exception()
            print(type(error).__name__, error)
            print(ex.submit(square, 3).result())
    """)
    result = run(path, mode=mode, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("UnpicklingError the result of the call cannot be rebuilt here: "
                             "cannot rebuild this result here\n9\n")


@pytest.mark.parametrize("mode", POOL_MODES)
def test_a_channel_the_caller_dropped_lives_while_a_worker_uses_it(tmp_path, mode):
    path = script(tmp_path, COMMON + """
    def put_then_wait(channel, gate):
        channel.put(1)
        gate.get()
        channel.put(2)
        return channel.qsize()

    def fill(channel):
        for i in range(3):
            channel.put(i)
        return channel.qsize()

    if __name__ == "__main__":
        with pyhost.Executor(MODE, workers=2) as ex:
            print(ex.submit(fill, pyhost.Channel(4)).result())
            channel, gate = pyhost.Channel(), pyhost.Channel()
            future = ex.submit(put_then_wait, channel, gate)
            print(channel.get())
            del channel
            gate.put("go")
            print(future.result())
    """)
    result = run(path, mode=mode, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3\n1\n1\n"


@pytest.mark.parametrize("mode", POOL_MODES)
def test_main_script_runs_in_a_worker_only_when_a_call_needs_it(tmp_path, mode):
    # A plain function of the script goes by value: a call that uses only its arguments and
    # builtins does not run the script in the worker (no imports of the script's modules on the
    # way to the first result); one that names a global of the script runs it, once, as
    # multiprocessing would; one that stores a global goes by reference, as before.
    marker = tmp_path / "loaded"
    path = script(tmp_path, """
    import os
    import pyhost

    if __name__ == "__mp_main__":
        with open(os.environ["MARKER"], "a") as f:
            f.write("loaded\\n")

    SCALE = 10
    counter = 0

    def pure(x, extra=1, *, more=2):
        return sum([x, extra, more]) + len("abc")

    def scaled(x):
        return x * SCALE

    def count():
        global counter
        counter += 1
        return counter

    def recursive(n):
        return 1 if n <= 1 else n * recursive(n - 1)

    def main():
        with pyhost.Executor(os.environ["MODE"], workers=1) as ex:
            print(ex.submit(pure, 1).result(), list(ex.map(pure, [1, 2])))
            print("before:", os.path.exists(os.environ["MARKER"]))
            print(ex.submit(scaled, 4).result(), ex.submit(recursive, 5).result())
            print(ex.submit(count).result(), ex.submit(count).result())

    if __name__ == "__main__":
        main()
    """)
    result = run_pyhost(["run", path], env={"MODE": mode, "MARKER": str(marker)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "7 [7, 8]\nbefore: False\n40 120\n1 2\n"
    assert marker.read_text() == "loaded\n"


@pytest.mark.parametrize("mode", POOL_MODES)
def test_an_executor_made_by_an_unguarded_main_call_is_refused_in_the_script(tmp_path, mode):
    # main() called outside `if __name__ == "__main__":` would create the executor again in a
    # worker that loads the script: refused where it is created, whether or not a call would
    # load the script (here none would: the function goes by value).
    path = script(tmp_path, """
    import os
    import pyhost

    def square(x):
        return x * x

    def main():
        with pyhost.Executor(os.environ["MODE"], workers=1) as ex:
            print(ex.submit(square, 3).result())

    main()
    """)
    result = run(path, mode=mode, timeout=60)
    assert result.returncode == 1
    assert "pyhost.Executor was created by the main script's top level outside" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("mode", POOL_MODES)
def test_functions_that_cannot_go_by_value_still_run(tmp_path, mode):
    # Those that need the script's namespace itself go by reference, as before: a generic
    # function (its type parameters live in a closure), a wrapped one (attributes), one that
    # reads globals(), one with a class body; keyword-only defaults travel with the code.
    path = script(tmp_path, """
    import functools, os
    import pyhost

    def twice(f):
        @functools.wraps(f)
        def inner(*a):
            return 2 * f(*a)
        return inner

    def generic[T](x: T) -> T:
        return x

    @twice
    def wrapped(x):
        return x + 1

    def namespace():
        return "generic" in globals()

    def with_class(x):
        class Box:
            value = x
        return Box.value

    def keyword_only(x, *, scale=3):
        return x * scale

    if __name__ == "__main__":
        with pyhost.Executor(os.environ["MODE"], workers=1) as ex:
            calls = [(generic, 5), (wrapped, 1), (namespace,), (with_class, 7), (keyword_only, 2)]
            print([ex.submit(*call).result() for call in calls])
    """)
    result = run(path, mode=mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[5, 4, True, 7, 6]\n"


@pytest.mark.parametrize("mode", POOL_MODES)
def test_functions_of_dash_c_code_go_by_value_or_get_a_clear_error(mode):
    code = textwrap.dedent("""
    import os
    import pyhost

    def double(x):
        return x * 2

    def uses_a_module(x):
        return os.getpid()

    if __name__ == "__main__":
        with pyhost.Executor(os.environ["MODE"], workers=2) as ex:
            print(list(ex.map(double, range(4))))
            for _ in range(2):  # the second call of it too (its verdict is cached)
                try:
                    ex.submit(uses_a_module, 1).result()
                except Exception as exc:
                    print(type(exc).__name__, exc)
    """)
    result = run_pyhost(["run", "-c", code], env={"MODE": mode})
    assert result.returncode == 0, result.stderr
    error = ("PicklingError uses_a_module() is defined in `-c` code (or interactively) and uses "
             "more than its arguments and the builtins, so a worker cannot rebuild it: define it "
             "in a script or module")
    assert result.stdout.splitlines() == ["[0, 2, 4, 6]", error, error]


@pytest.mark.parametrize("host_mode", ["serial", "threads"])
def test_tasks_that_use_executors_leave_no_functions_behind(host_mode):
    # Defect 7: the cache of which main-script functions go by value was a strong dict, so each
    # task of a run left its functions (and their globals: the task's namespace) alive in the
    # interpreter that ran it. Each task here checks how many are left once it has used its own.
    code = textwrap.dedent("""
    import gc
    import pyhost
    from pyhost._executor import pickling

    payload = bytearray(1 << 20)  # what a leaked namespace would keep: 1 MB per task

    def double(x):
        return x * 2

    if __name__ == "__main__":
        with pyhost.Executor("subinterpreters", workers=1) as ex:
            assert ex.submit(double, pyhost.task_id).result() == 2 * pyhost.task_id
        gc.collect()
        print(len(pickling._sendable_cache))
    """)
    result = run_pyhost(["run", "--mode", host_mode, "-j1", "--tasks", 12, "-c", code], timeout=300)
    assert result.returncode == 0, result.stderr
    counts = [int(line.rpartition(" ")[2]) for line in result.stdout.splitlines()]
    assert len(counts) == 12 and max(counts) <= 2, counts  # its own, and at most one not yet collected
