"""pyhost.Executor("subinterpreters") made by a plain python (not `pyhost run`): real own-GIL
sub-interpreter workers, through the `_pyhost_subinterpreters` extension that the build puts in
build/python (a wheel: site-packages). Each check is a script run by the plain python of the
CPython pyhost embeds, in a subprocess with a time limit: it must also end cleanly."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from pyhost_testing import REPO, peer_speedup, pyhost_bin

TIMEOUT = 120

# What each script imports first: the executor, made with RuntimeWarnings as errors (a fallback
# to threads warns), and facts about where a call ran.
PRELUDE = """\
import os, sys, threading, time, warnings
import _interpreters
import pyhost

def where(_=None):
    return _interpreters.get_current()[0], threading.get_native_id(), os.getpid()

def fail(message):
    raise ValueError(message)

def eprint(text):
    print(text, file=sys.stderr)

def spin(n):
    t = 0
    for i in range(n):
        t += i * i % 7
    return t

def spin_until(deadline, started=None):
    # Iterations of a pure-Python loop done before `deadline`. `time` first: a worker runs this
    # script (its __mp_main__) at its first use of a global, and what the script imports there
    # may need the main interpreter's GIL for a moment (CPython imports single-phase modules,
    # such as _interpreters, in the main interpreter first): done before it says it started.
    monotonic = time.monotonic
    if started is not None:
        started.put(True)
    count = 0
    while monotonic() < deadline:
        for i in range(1000):
            pass
        count += 1
    return count

def make(workers=2):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ex = pyhost.Executor("subinterpreters", workers=workers)
    assert ex.mode == "subinterpreters", ex.mode
    return ex
"""


def build_python_dir():
    """build/python of the build that made PYHOST_BIN: where the extension is."""
    return pathlib.Path(pyhost_bin()).resolve().parent / "python"


def plain_env():
    paths = [str(REPO / "runtime"), str(build_python_dir()), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, paths)))
    env.pop("PYTHONWARNINGS", None)
    return env


def run_plain(python_exe, tmp_path, body, timeout=TIMEOUT):
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + "\nif __name__ == '__main__':\n" + textwrap.indent(
        textwrap.dedent(body), "    "))
    return subprocess.run([python_exe, str(script)], capture_output=True, text=True,
                          timeout=timeout, env=plain_env(), cwd=tmp_path)


@pytest.fixture(scope="module", autouse=True)
def extension_built():
    found = sorted(build_python_dir().glob("_pyhost_subinterpreters*.so"))
    assert found, f"no _pyhost_subinterpreters extension in {build_python_dir()}: build it " \
                  "(cmake --build build --target _pyhost_subinterpreters)"


def test_workers_are_sub_interpreters_of_this_process(python_exe, tmp_path):
    result = run_plain(python_exe, tmp_path, """
        import _pyhost_subinterpreters
        main_interp, main_thread, pid = where()
        with make() as ex:
            seen = list(ex.map(where, range(8)))
            assert ex.submit(pow, 3, 4).result(60) == 81
        interps = {interp for interp, _, _ in seen}
        threads = {thread for _, thread, _ in seen}
        assert main_interp not in interps and main_thread not in threads, seen
        assert {p for _, _, p in seen} == {pid}, seen
        # The worker imported `_pyhost` nowhere: this python has none.
        assert "_pyhost" not in sys.modules
        print("interpreters", len(interps), "threads", len(threads))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    words = result.stdout.split()
    assert words[0] == "interpreters" and 1 <= int(words[1]) <= 2
    assert words[2] == "threads" and int(words[3]) == int(words[1])


def test_results_exceptions_and_output_come_back(python_exe, tmp_path):
    result = run_plain(python_exe, tmp_path, """
        with make() as ex:
            assert list(ex.map(abs, [-1, -2, 3])) == [1, 2, 3]
            error = ex.submit(fail, "boom in a worker").exception(60)
            assert type(error) is ValueError and str(error) == "boom in a worker", repr(error)
            assert "in fail" in error.remote_traceback, error.remote_traceback
            assert "ValueError: boom in a worker" in error.remote_traceback
            ex.submit(print, "printed by a worker").result(60)
            ex.submit(eprint, "to stderr").result(60)
        print("done")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["printed by a worker", "done"]
    assert result.stderr == "to stderr\n"


def test_a_worker_of_a_plain_python_reaches_its_channels(python_exe, tmp_path):
    result = run_plain(python_exe, tmp_path, """
        channel = pyhost.Channel()

        with make() as ex:
            ex.submit(channel.put, {"from": "worker"}).result(60)
            assert channel.get(timeout=60) == {"from": "worker"}
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


def test_shutdown_ends_the_process_cleanly_without_an_explicit_shutdown(python_exe, tmp_path):
    # No `with`, no shutdown(): the exit hook ends the workers before the interpreter ends.
    result = run_plain(python_exe, tmp_path, """
        ex = make(2)
        futures = [ex.submit(spin, 200_000) for _ in range(4)]
        print(len([f.result(60) for f in futures]))
    """, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "4\n", "")


def test_workers_run_python_while_the_main_interpreter_holds_its_gil(python_exe, tmp_path):
    """Own GILs, whatever the load of the machine: with a 60 s switch interval, a GIL is given up
    only when its holder blocks, and everyone spins until the same deadline once both workers
    have started. Had they one GIL (the old fallback to threads), its first holder would spin
    alone until the deadline and the others count 0."""
    result = run_plain(python_exe, tmp_path, """
        with make(2) as ex:
            list(ex.map(spin, [10, 10]))  # both workers up
            started = pyhost.Channel()
            sys.setswitchinterval(60.0)
            deadline = time.monotonic() + 2.0
            futures = [ex.submit(spin_until, deadline, started) for _ in range(2)]
            started.get(timeout=60)
            started.get(timeout=60)
            mine = spin_until(deadline)
            theirs = [f.result(60) for f in futures]
        print(mine, *theirs)
    """)
    assert result.returncode == 0, result.stderr
    counts = list(map(int, result.stdout.split()))
    assert len(counts) == 3 and min(counts) >= 0.05 * max(counts) > 0, counts



@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores")
def test_cpu_bound_calls_run_in_parallel(python_exe, tmp_path):
    """Two workers against one, on the same calls: near what two processes get (a shared GIL,
    the old fallback to threads, gives 1.0x; the test above shows own GILs without timing).
    One round's ratio on this VM ranges from 1.0x to 2.0x (its vCPUs slow to ~60 % for seconds
    at a time, bench/RESULTS.md): rounds are added, 5 at a time up to 15, until their median
    meets the target."""
    peer = peer_speedup(python_exe)
    if peer < 1.2:
        pytest.skip(f"this machine gives two python processes {peer:.2f}x one now")
    # Generous: 80 % of the peer's, and clearly above the 1.0x of a shared GIL.
    target = min(1.15, 0.8 * peer)
    result = run_plain(python_exe, tmp_path, f"""
        import statistics

        def timed(workers):
            with make(workers) as ex:
                list(ex.map(spin, [1000] * workers))  # workers up
                start = time.perf_counter()
                list(ex.map(spin, [1_500_000] * 4))
                return time.perf_counter() - start

        ratios = []
        while len(ratios) < 15:
            ratios += [timed(1) / timed(2) for _ in range(5)]
            if statistics.median(ratios) >= {target}:
                break
        print(statistics.median(ratios), *(f"{{r:.2f}}" for r in ratios))
    """, timeout=600)
    assert result.returncode == 0, result.stderr
    speedup, *rounds = map(float, result.stdout.split())
    assert speedup >= target, (f"2 workers {speedup:.2f}x 1 (median of rounds {rounds}); "
                               f"2 processes {peer:.2f}x")


def test_cpython_3_12_before_3_12_4_falls_back_to_threads_saying_why(python_exe, tmp_path):
    # Those releases abort at exit after sub-interpreters ran (CPython gh-119213): a plain python
    # gets threads and the reason instead. Seen through a patched sys.version_info (3.12.1, with
    # the bug, is what .ci/test-py312 runs `pyhost run` on).
    script = tmp_path / "old.py"
    script.write_text(textwrap.dedent("""
        import sys, warnings
        sys.version_info = (3, 12, 3, "final", 0)
        import pyhost
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pyhost.Executor("subinterpreters", workers=2) as ex:
                assert ex.mode == "threads", ex.mode
                assert list(ex.map(abs, [-1, -2])) == [1, 2]
        print(*[str(w.message) for w in caught], sep="\\n")
    """))
    result = subprocess.run([python_exe, str(script)], capture_output=True, text=True,
                            timeout=TIMEOUT, env=plain_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "CPython 3.12.3 can abort at exit" in result.stdout, result.stdout
    assert "gh-119213" in result.stdout and "3.12.4" in result.stdout
