"""pyhost.Executor's process workers forked by a fork server (runtime/pyhost/_executor/forkserver.py):
the first executor of a script starts its workers afresh, later ones get forked workers that
behave as fresh ones do (environment, directory, output, crashes, replacement), and the server
goes away with the script."""
import time

import pytest

from pyhost_testing import run_pyhost
from test_executor import script

COMMON = """
    import os
    import pyhost

    def square(x):
        return x * x
"""

INFO = COMMON + """
    def info(x):
        print("out", x, flush=True)
        return os.getpid(), os.getppid(), os.environ.get("FS_VALUE"), os.getcwd()

    def parents(ex, n=4):
        got = list(ex.map(info, range(n)))
        return (sorted({ppid for _, ppid, _, _ in got}), {value for _, _, value, _ in got},
                {cwd for *_, cwd in got})
"""


def run(path, env=None, timeout=120):
    return run_pyhost(["run", str(path)], env=env, timeout=timeout)


def test_later_executors_get_workers_forked_by_one_server(tmp_path):
    path = script(tmp_path, INFO + """
    if __name__ == "__main__":
        me = os.getpid()
        for round in range(3):
            with pyhost.Executor("processes", workers=2) as ex:
                ppids, _, _ = parents(ex)
            server = ppids[0]
            with open(f"/proc/{server}/stat") as f:
                server_parent = int(f.read().rsplit(")", 1)[1].split()[1])
            print(round, "afresh" if ppids == [me] else
                  f"forked by one child of the script: {len(ppids) == 1 and server_parent == me}")
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if not line.startswith("out ")]
    assert lines == ["0 afresh", "1 forked by one child of the script: True",
                     "2 forked by one child of the script: True"]
    # The forked workers' output is the task's, as a fresh worker's is.
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("out ")) == \
        sorted(f"out {x}" for x in range(4) for _ in range(3))


def test_pyhost_executor_forkserver_0_starts_every_worker_afresh(tmp_path):
    path = script(tmp_path, INFO + """
    if __name__ == "__main__":
        for round in range(3):
            with pyhost.Executor("processes", workers=2) as ex:
                ppids, _, _ = parents(ex)
            print(round, ppids == [os.getpid()])
    """)
    result = run(path, env={"PYHOST_EXECUTOR_FORKSERVER": "0"})
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith("out ")] == \
        ["0 True", "1 True", "2 True"]


def test_forked_workers_see_the_environment_and_directory_at_their_request(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    path = script(tmp_path, INFO + """
    if __name__ == "__main__":
        for round, where in enumerate([".", "elsewhere", ".."]):
            os.environ["FS_VALUE"] = f"value {round}"
            os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), where))
            with pyhost.Executor("processes", workers=2) as ex:
                _, values, cwds = parents(ex)
            print(round, values == {f"value {round}"}, cwds == {os.getcwd()})
        del os.environ["FS_VALUE"]
        with pyhost.Executor("processes", workers=2) as ex:
            print("unset", parents(ex)[1] == {None})
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith("out ")] == \
        ["0 True True", "1 True True", "2 True True", "unset True"]


@pytest.mark.parametrize("forkserver", ["1", "0"])
def test_a_forked_worker_that_crashes_fails_only_its_call_as_a_fresh_one_does(tmp_path, forkserver):
    path = script(tmp_path, COMMON + """
    import signal

    def crash(how):
        if how == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        if how == "exit":
            os._exit(7)
        return os.getppid()

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=2) as ex:
            ex.submit(crash, "no").result()
        with pyhost.Executor("processes", workers=2) as ex:
            server = ex.submit(crash, "no").result()
            print("forked", server != os.getpid())
            for how in ("segv", "exit"):
                try:
                    ex.submit(crash, how).result()
                except pyhost.WorkerCrashed as exc:
                    print(how, exc.signal, exc.exitcode, str(exc).split(": ", 1)[1])
            print("replacements of the same parent", {ex.submit(crash, "no").result() for _ in range(6)} == {server})
    """)
    result = run(path, env={"PYHOST_EXECUTOR_FORKSERVER": forkserver})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"forked {forkserver == '1'}"
    assert lines[1].startswith("segv 11 -11 signal 11 (SIGSEGV)"), lines
    assert lines[2].startswith("exit None 7 exit status 7"), lines
    assert lines[3:] == ["replacements of the same parent True"]


def test_workers_asked_of_a_server_that_dies_start_afresh(tmp_path):
    path = script(tmp_path, COMMON + """
    import signal

    def parent(x):
        return os.getppid()

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=1) as ex:
            ex.submit(parent, 0).result()
        with pyhost.Executor("processes", workers=1) as ex:
            server = ex.submit(parent, 0).result()
        # Stopped, the server takes the requests of the next executor's workers but answers
        # none; killed, it never will: those workers must start afresh, not be lost.
        os.kill(server, signal.SIGSTOP)
        ex = pyhost.Executor("processes", workers=2)
        os.kill(server, signal.SIGKILL)
        print("pending requests", set(ex.map(parent, range(8))) == {os.getpid()})
        ex.shutdown()
        for round in range(2):  # and later executors work (a new server, or afresh)
            with pyhost.Executor("processes", workers=2) as ex:
                print(round, server not in set(ex.map(parent, range(4))), sum(ex.map(square, range(10))))
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["pending requests True", "0 True 285", "1 True 285"]


def test_the_server_and_its_workers_end_with_the_script(tmp_path):
    path = script(tmp_path, COMMON + """
    def parent(x):
        return os.getpid(), os.getppid()

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=1) as ex:
            ex.submit(parent, 0).result()
        with pyhost.Executor("processes", workers=2) as ex:
            pids = set(ex.map(parent, range(4)))
        print(*sorted({p for pair in pids for p in pair}))
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    pids = [int(p) for p in result.stdout.split()]
    assert len(pids) == 3  # the server and its two workers
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)], "the fork server or a worker outlived the script"


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_first_executor_of_many_workers_starts_two_afresh_and_forks_the_rest(tmp_path):
    path = script(tmp_path, INFO + """
    import time

    def slow_info(x):
        time.sleep(0.1)  # long enough that every worker is up before the calls run out
        return info(x)

    if __name__ == "__main__":
        with pyhost.Executor("processes", workers=5) as ex:
            got = list(ex.map(slow_info, range(25), chunksize=1))
        by_parent = {}
        for pid, ppid, _, _ in got:
            by_parent.setdefault(ppid, set()).add(pid)
        me = os.getpid()
        print("afresh", len(by_parent.pop(me, ())), "forked", [len(pids) for pids in by_parent.values()])
    """)
    result = run(path)
    assert result.returncode == 0, result.stderr
    # Workers 0 and 1 are the script's children; 2, 3 and 4 the server's, asked of it while
    # it was still starting. (Every worker took some of the 25 calls of 0.1 s.)
    assert [line for line in result.stdout.splitlines() if not line.startswith("out ")] == \
        ["afresh 2 forked [3]"]


def test_workers_asked_of_a_server_that_never_comes_up_start_afresh(tmp_path):
    path = script(tmp_path, INFO + """
    from pyhost._executor import forkserver

    forkserver._SERVER_MAIN = "import time; time.sleep(3600)  # {}"  # never says it is ready
    forkserver._START_TIMEOUT_S = 1.0

    if __name__ == "__main__":
        for round in range(2):  # the second executor does not try that server again
            with pyhost.Executor("processes", workers=3) as ex:
                ppids, _, _ = parents(ex, 30)
        # Leaving the executor waited for its third worker: started afresh once the server was
        # killed for not coming up in time.
        print(ppids == [os.getpid()], forkserver._server.alive, forkserver._starts)
    """)
    result = run(path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if not line.startswith("out ")] == \
        ["True False 1"]
