"""`pyhost run --mode processes --sandbox`: each escape attempt fails inside the sandbox (the task
is `failed`, with the exception the script got) and leaves the host unharmed; each is also run
without --sandbox, the control that shows the attempt is real (docs/sandbox.md)."""
import json
import os
import socket
import subprocess
import tempfile
import textwrap
import threading

import pytest
from pyhost_testing import pyhost_bin, run_pyhost

ROOT = os.geteuid() == 0


@pytest.fixture(scope="module", autouse=True)
def sandbox_usable():
    info = json.loads(run_pyhost(["info", "--json"], check=True).stdout)
    assert "sandbox" in info
    if not info["sandbox"]["usable"]:
        pytest.skip(f"--sandbox is not usable here: {info['sandbox']}")


@pytest.fixture
def area():
    """A directory tree outside the test's pytest dir (those are 0700, unreadable to the sandbox's
    uid): scripts/ (the scripts), secret/secret.txt (readable by anyone: only the sandbox hides
    it), free/ (writable by anyone, not exposed), out/ (writable by anyone, --sandbox-write)."""
    base = tempfile.mkdtemp(prefix="pyhost-sandbox-test-", dir="/tmp")
    os.chmod(base, 0o755)
    for name, mode in (("scripts", 0o755), ("secret", 0o755), ("free", 0o777), ("out", 0o777)):
        os.mkdir(os.path.join(base, name))
        os.chmod(os.path.join(base, name), mode)
    secret = os.path.join(base, "secret", "secret.txt")
    with open(secret, "w") as f:
        f.write("the host's secret\n")
    os.chmod(secret, 0o644)
    yield base
    run_cleanup(base)


def run_cleanup(base):
    import shutil

    shutil.rmtree(base, ignore_errors=True)


def run_script(area, code, *, sandbox=True, options=(), env=None, tasks=1, name="attempt.py"):
    """Runs `code` (a script in area/scripts) once in processes mode; returns (process, tasks)."""
    script = os.path.join(area, "scripts", name)
    with open(script, "w") as f:
        f.write(textwrap.dedent(code))
    os.chmod(script, 0o644)
    result_file = os.path.join(area, "result.json")
    args = ["run", "--mode", "processes", "-j", "1", "--tasks", str(tasks), "--json", result_file]
    if sandbox:
        args.append("--sandbox")
    args += [*options, script]
    proc = run_pyhost(args, env=env, timeout=120)
    with open(result_file) as f:
        records = json.load(f)["tasks"]
    return proc, records


def assert_refused(proc, records, *exception_names):
    (task,) = records
    assert task["status"] == "failed", (proc.stderr, task)
    assert "ESCAPED" not in task["stdout"], task
    assert any(name in task["stderr"] for name in exception_names), task["stderr"]


def assert_escaped(proc, records):
    (task,) = records
    assert task["status"] == "ok", (proc.stderr, task)
    assert "ESCAPED" in task["stdout"], task


def both(area, code, *exceptions, options=(), control_options=(), env=None):
    """The control (no --sandbox) escapes; the sandboxed run is refused with `exceptions`."""
    assert_escaped(*run_script(area, code, sandbox=False, options=control_options, env=env))
    proc, records = run_script(area, code, options=options, env=env)
    assert_refused(proc, records, *exceptions)
    return records[0]


def test_an_ordinary_script_runs_confined(area):
    with open(os.path.join(area, "scripts", "data.txt"), "w") as f:
        f.write("next to the script\n")
    os.chmod(os.path.join(area, "scripts", "data.txt"), 0o644)
    code = f"""
        import os, pathlib, socket, tempfile
        here = pathlib.Path(__file__).parent
        print("read:", (here / "data.txt").read_text().strip())
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("scratch")
        print("tmp:", f.name.startswith("/tmp/"), os.environ["HOME"])
        pathlib.Path({area!r}, "out", "result.txt").write_text("written")
        print("uid:", os.getuid(), "pid:", os.getpid(), "host:", socket.gethostname())
        s = socket.create_server(("127.0.0.1", 0)); c = socket.create_connection(s.getsockname())
        print("loopback ok")
    """
    proc, records = run_script(area, code, options=["--sandbox-write", os.path.join(area, "out")])
    (task,) = records
    assert task["status"] == "ok", (proc.stderr, task)
    out = task["stdout"]
    assert "read: next to the script" in out
    assert "tmp: True /tmp" in out
    assert "loopback ok" in out
    assert "pid: 1 " in out and "host: pyhost-sandbox" in out
    if ROOT:
        assert "uid: 65534" in out
        assert os.stat(os.path.join(area, "out", "result.txt")).st_uid == 65534
    with open(os.path.join(area, "out", "result.txt")) as f:
        assert f.read() == "written"


def test_read_a_secret_outside_the_scripts_dir(area):
    secret = os.path.join(area, "secret", "secret.txt")
    both(area, f"print(open({secret!r}).read(), 'ESCAPED')", "FileNotFoundError")
    assert open(secret).read() == "the host's secret\n"


def test_write_outside_the_allowed_paths(area):
    target = os.path.join(area, "free", "planted.txt")
    both(area, f"open({target!r}, 'w').write('x'); print('ESCAPED')", "FileNotFoundError")
    os.unlink(target)  # the control's
    # The script's own directory is shown, read-only.
    beside = os.path.join(area, "scripts", "planted.txt")
    os.chmod(os.path.join(area, "scripts"), 0o777)
    both(area, f"open({beside!r}, 'w').write('x'); print('ESCAPED')", "Read-only file system")
    os.unlink(beside)
    assert not os.path.exists(target) and not os.path.exists(beside)


def test_list_proc_and_signal_the_host(area):
    code = f"""
        import os
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        print("pids:", len(pids))
        os.kill({os.getpid()}, 0)   # signal 0: the permission check of a real signal
        print("ESCAPED")
    """
    task = both(area, code, "ProcessLookupError")
    count = int(task["stdout"].split("pids:")[1].split()[0])
    assert count <= 2, task["stdout"]  # the worker alone (and nothing of the host)


def test_connect_to_a_listener_of_the_host(area):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    arrived = threading.Semaphore(0)  # one release per connection accepted

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)
            arrived.release()

    threading.Thread(target=serve, daemon=True).start()
    code = f"""
        import socket
        socket.create_connection(("127.0.0.1", {port}), timeout=10)
        print("ESCAPED")
    """
    try:
        both(area, code, "ConnectionRefusedError")
        assert arrived.acquire(timeout=60)  # the control's
        # --sandbox-net keeps the host's network.
        assert_escaped(*run_script(area, code, options=["--sandbox-net"]))
        assert arrived.acquire(timeout=60)
        assert len(accepted) == 2  # and no connection from the sandboxed run
    finally:
        server.close()


def test_read_the_hosts_environment(area):
    code = "import os; print(os.environ['PYHOST_TEST_SECRET'], 'ESCAPED')"
    both(area, code, "KeyError", env={"PYHOST_TEST_SECRET": "hunter2"})


def test_fork_bomb_stops_at_the_limit(area):
    # Bounded: 40 children that wait on a pipe and leave when it closes.
    code = """
        import os
        r, w = os.pipe()
        children = []
        try:
            for _ in range(40):
                pid = os.fork()
                if pid == 0:
                    os.close(w)
                    os.read(r, 1)
                    os._exit(0)
                children.append(pid)
        finally:
            os.close(w)
            for pid in children:
                os.waitpid(pid, 0)
        print(len(children), "children ESCAPED")
    """
    both(area, code, "BlockingIOError", options=["--sandbox-limit", "procs=16"])


def test_a_1gb_file_passes_the_file_size_limit(area):
    code = f"""
        import os
        path = os.path.join({os.path.join(area, 'free')!r} if "PYHOST_SANDBOX" not in os.environ else "/tmp", "big")
        with open(path, "wb") as f:
            f.seek(1 << 30)      # sparse: the size limit counts the offset, not the blocks
            f.write(b"x")
        print(os.path.getsize(path), "ESCAPED")
        os.unlink(path)
    """
    both(area, code, "File too large")


def test_allocate_past_the_memory_limit(area):
    code = "b = bytearray(400 << 20); print(len(b), 'ESCAPED')"
    both(area, code, "MemoryError", options=["--memory-limit", "200"])


# PTRACE_ATTACH to a child of the script's own: refused (EPERM) by the sandbox's seccomp filter.
PTRACE_ATTEMPT = """
    import ctypes, os, signal
    libc = ctypes.CDLL(None, use_errno=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(r, 1)
        os._exit(0)
    try:
        if libc.ptrace(16, pid, None, None) != 0:      # PTRACE_ATTACH
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        print("ESCAPED")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
"""


def test_ptrace(area):
    both(area, PTRACE_ATTEMPT, "PermissionError")


def test_mount(area):
    target = os.path.join(area, "free")
    code = f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.mount(b"none", {target.encode()!r}, b"tmpfs", 0, None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        libc.umount2({target.encode()!r}, 0)
        print("ESCAPED")
    """
    if not ROOT:
        pytest.skip("the control needs root (a mount that succeeds)")
    both(area, code, "PermissionError")


def test_load_a_kernel_module(area):
    # finit_module of an empty file: the kernel says ENOEXEC/EINVAL to a host that may load
    # modules, EPERM where even the host's root lacks CAP_SYS_MODULE (containers).
    empty = os.path.join(area, "scripts", "empty.ko")  # in the script's dir: shown to the sandbox
    open(empty, "w").close()
    os.chmod(empty, 0o644)
    code = f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open({empty!r}, os.O_RDONLY)
        rc = libc.syscall(313, fd, b"", 0)          # finit_module (x86-64)
        e = ctypes.get_errno()
        status = open("/proc/self/status").read()
        seccomp = [l for l in status.splitlines() if l.startswith("Seccomp:")][0].split()[1]
        print("errno", e, "seccomp", seccomp)
        if rc != 0:
            raise OSError(e, os.strerror(e))
    """
    if os.uname().machine != "x86_64":
        pytest.skip("syscall number of finit_module is x86-64's")
    control = run_script(area, code, sandbox=False)[1][0]
    assert "seccomp 0" in control["stdout"]  # no filter: the kernel itself answered
    assert "errno 1 " not in control["stdout"] or ROOT, control
    proc, records = run_script(area, code)
    assert_refused(proc, records, "PermissionError")
    assert "errno 1 seccomp 2" in records[0]["stdout"]


def test_escape_through_a_symlink_or_dotdot(area):
    secret = os.path.join(area, "secret", "secret.txt")
    os.symlink(secret, os.path.join(area, "out", "link"))
    out = os.path.join(area, "out")
    code = f"""
        print(open({out!r} + "/link").read())
        print("ESCAPED")
    """
    both(area, code, "FileNotFoundError", options=["--sandbox-write", out])
    code = f"""
        print(open({out!r} + "/../secret/secret.txt").read())
        print("ESCAPED")
    """
    both(area, code, "FileNotFoundError", options=["--sandbox-write", out])
    code = f"""
        import os
        if os.path.lexists({out!r} + "/made"):  # the control's
            os.unlink({out!r} + "/made")
        os.symlink({secret!r}, {out!r} + "/made")
        print(open({out!r} + "/made").read())
        print("ESCAPED")
    """
    both(area, code, "FileNotFoundError", options=["--sandbox-write", out])


def test_a_fresh_worker_per_task_unless_reused(area):
    code = """
        import os
        seen = os.path.exists("/tmp/marker")
        open("/tmp/marker", "w").close()
        print("seen" if seen else "fresh")
    """
    _, records = run_script(area, code, tasks=3)
    assert [r["stdout"].strip() for r in records] == ["fresh"] * 3
    _, records = run_script(area, code, tasks=3, options=["--sandbox-reuse-workers"])
    assert sorted(r["stdout"].strip() for r in records) == ["fresh", "seen", "seen"]


def test_a_reused_worker_reports_its_peak_rss_after_each_task(area):
    """The worker reads its peak RSS (VmHWM) at each task's end through one descriptor of
    /proc/self/status kept open, not a fresh open a task (an open is a Landlock check under
    --sandbox): each read must still see the peak as it is then, in the sandbox and out."""
    code = """
        import pyhost
        if pyhost.task_id == 1:
            block = b"x" * (64 << 20)  # 64 MB written: resident
    """
    for options in (["--sandbox-reuse-workers"], []):
        proc, records = run_script(area, code, tasks=3, options=options, sandbox=bool(options))
        assert len({r["worker"] for r in records}) == 1, records
        peaks = [r["peak_rss_mb"] for r in sorted(records, key=lambda r: r["id"])]
        assert peaks[1] - peaks[0] > 60, (options, peaks, proc.stderr)
        # A high-water mark: still there a task later (within the kernel's lazily summed counters).
        assert peaks[2] - peaks[0] > 60, (options, peaks)


def test_usage_errors(area):
    proc = run_pyhost(["run", "--sandbox", "-c", "pass"])
    assert proc.returncode == 2 and "needs --mode processes" in proc.stderr
    proc = run_pyhost(["run", "--mode", "processes", "--sandbox", "--sandbox-limit", "cpu=1", "-c", "pass"])
    assert proc.returncode == 2 and "unknown sandbox limit 'cpu'" in proc.stderr
    missing = os.path.join(area, "nowhere")
    proc = run_pyhost(["run", "--mode", "processes", "--sandbox", "--sandbox-read", missing, "-c", "pass"])
    assert proc.returncode == 2 and "--sandbox-read" in proc.stderr
    if ROOT:
        private = tempfile.mkdtemp(dir=area)  # 0700: nobody may not write it
        proc = run_pyhost(["run", "--mode", "processes", "--sandbox", "--sandbox-write", private, "-c", "pass"])
        assert proc.returncode == 2 and "not writable by uid 65534" in proc.stderr


HOSTILE = [
    "print(open({secret!r}).read())",
    "open({free!r} + '/x', 'w').write('x')",
    "import os; os.kill({pid}, 0)",
    "import os; print(os.environ['PYHOST_TEST_SECRET'])",
    "import socket; socket.create_connection(('127.0.0.1', {port}), timeout=10)",
]


def test_a_batch_of_hostile_and_ordinary_jobs(area):
    server = socket.create_server(("127.0.0.1", 0))
    try:
        values = dict(secret=os.path.join(area, "secret", "secret.txt"), free=os.path.join(area, "free"),
                      pid=os.getpid(), port=server.getsockname()[1])
        lines = ['[defaults]\nmode = "processes"\nsandbox = true\n']
        for i in range(20):
            code = HOSTILE[i % len(HOSTILE)].format(**values)
            lines.append(f"[[job]]\nname = \"hostile{i}\"\ncode = {json.dumps(code)}\n")
            lines.append(f"[[job]]\nname = \"ordinary{i}\"\ncode = \"print({i} * {i})\"\n")
        jobs = os.path.join(area, "scripts", "jobs.toml")
        with open(jobs, "w") as f:
            f.write("\n".join(lines))
        results = os.path.join(area, "results.json")
        proc = run_pyhost(["batch", jobs, "--jobs", "2", "--json", results],
                          env={"PYHOST_TEST_SECRET": "hunter2"}, timeout=600)
        assert proc.returncode == 1, proc.stderr
        with open(results) as f:
            doc = json.load(f)
    finally:
        server.close()
    assert doc["complete"] is True
    status = {job["name"]: job["status"] for job in doc["jobs"]}
    assert len(status) == 40
    for i in range(20):
        assert status[f"ordinary{i}"] == "ok", doc
        assert status[f"hostile{i}"] == "failed", doc
    assert not os.path.exists(os.path.join(area, "free", "x"))


def test_executor_process_workers_are_confined(area):
    secret = os.path.join(area, "secret", "secret.txt")
    code = f"""
        import os, pyhost

        def read_secret():
            return os.getuid(), open({secret!r}).read()

        if __name__ == "__main__":
            with pyhost.Executor("processes", workers=1) as ex:
                print("plain:", ex.submit(read_secret).result()[1].strip())
            with pyhost.Executor("processes", workers=1, sandbox={{"limits": {{"procs": 32}}}}) as ex:
                error = ex.submit(read_secret).exception()
                print("sandboxed:", type(error).__name__)
            try:
                pyhost.Executor("threads", sandbox=True)
            except ValueError as e:
                print("threads:", e)
    """
    proc, records = run_script(area, code, sandbox=False)
    out = records[0]["stdout"]
    assert records[0]["status"] == "ok", (proc.stderr, records)
    assert "plain: the host's secret" in out
    assert "sandboxed: FileNotFoundError" in out
    assert "needs mode 'processes'" in out


def test_job_file_sandbox_key_is_checked(area):
    jobs = os.path.join(area, "scripts", "bad.toml")
    with open(jobs, "w") as f:
        f.write('[[job]]\nname = "a"\ncode = "pass"\nsandbox = true\n\n'
                '[[job]]\nname = "b"\ncode = "pass"\nmode = "processes"\n'
                'sandbox = { wirte = ["x"], procs = 0 }\n')
    proc = run_pyhost(["batch", jobs, "--dry-run"])
    assert proc.returncode == 2, proc.stderr
    assert "bad.toml:4: error: job 'a': 'sandbox' confines worker processes" in proc.stderr
    assert "unknown key 'sandbox.wirte' (did you mean 'write'?)" in proc.stderr
    assert "job 'b': sandbox: 'procs' must be an integer >= 1 (got '0')" in proc.stderr


def test_cpu_seconds_limit_ends_the_worker(area):
    proc, records = run_script(area, "while True: pass", options=["--sandbox-limit", "cpu_s=1"])
    (task,) = records
    assert task["status"] == "crashed", (proc.stderr, task)
    assert "SIGKILL" in task["error"]  # the worker is its PID namespace's init: SIGXCPU is ignored


def without_namespaces_helper():
    """tests/e2e/helpers/without_namespaces (built with the tests; ctest names it)."""
    path = os.environ.get("PYHOST_WITHOUT_NAMESPACES") or os.path.join(
        os.path.dirname(pyhost_bin()), "tests", "without_namespaces")
    if not os.access(path, os.X_OK):
        pytest.skip(f"no {path}: built with the tests (x86-64 only)")
    return path


def run_without_namespaces(args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([without_namespaces_helper(), pyhost_bin(), *args], capture_output=True,
                          text=True, timeout=120, env=full_env)


def test_a_machine_without_user_namespaces_or_landlock(area):
    # `pyhost info` says what is missing and that --sandbox is refused here.
    info = json.loads(run_without_namespaces(["info", "--json"]).stdout)["sandbox"]
    assert info["usable"] is False, info
    assert not info["user_namespaces"]["available"], info
    assert "Operation not permitted" in info["user_namespaces"]["why"], info
    assert not info["landlock"]["available"] and "no Landlock" in info["landlock"]["why"], info
    assert info["seccomp"]["available"], info
    # --sandbox refuses to start, naming each mechanism: exit status 4, nothing run.
    script = os.path.join(area, "scripts", "hello.py")
    with open(script, "w") as f:
        f.write("print('RAN')\n")
    os.chmod(script, 0o644)
    refused = run_without_namespaces(["run", "--mode", "processes", "--sandbox", script])
    assert refused.returncode == 4, refused.stderr
    assert "--sandbox needs mechanisms this machine lacks" in refused.stderr
    assert "user namespaces: unshare(CLONE_NEWUSER|" in refused.stderr
    assert "Landlock: the kernel has no Landlock" in refused.stderr
    assert "RAN" not in refused.stdout


def reachable_by_nobody(path):
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os._exit(0 if os.access(path, os.R_OK) else 1)
        finally:
            os._exit(2)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_best_effort_runs_with_what_is_left_and_says_so(area):
    # Without namespaces and Landlock, --sandbox-best-effort still applies the seccomp filter,
    # the limits and the environment allow-list: ptrace and the host's variables stay refused.
    code = ('import os\nprint("SECRET" if "PYHOST_TEST_SECRET" in os.environ else "no secret")\n'
            + textwrap.dedent(PTRACE_ATTEMPT))
    script = os.path.join(area, "scripts", "attempt.py")
    with open(script, "w") as f:
        f.write(code)
    os.chmod(script, 0o644)
    result_file = os.path.join(area, "result.json")
    proc = run_without_namespaces(
        ["run", "--mode", "processes", "-j", "1", "--tasks", "1", "--sandbox", "--sandbox-best-effort", "--json",
         result_file, script], env={"PYHOST_TEST_SECRET": "hunter2"})
    assert "warning: --sandbox-best-effort: running WITHOUT:" in proc.stderr
    assert "user namespaces:" in proc.stderr and "Landlock:" in proc.stderr
    if proc.returncode == 4:
        # As root without a mount namespace, workers run as nobody on the host's file system:
        # pyhost refuses at the start, naming what nobody cannot reach (pyenv's prefix in /root).
        assert ROOT, proc.stderr
        assert "which cannot reach what they need" in proc.stderr, proc.stderr
        unreachable = [line.strip() for line in proc.stderr.splitlines() if line.startswith("  /")]
        assert unreachable and not any(reachable_by_nobody(path) for path in unreachable)
        assert not os.path.exists(result_file), "nothing ran"
        return
    with open(result_file) as f:
        (task,) = json.load(f)["tasks"]
    assert task["status"] == "failed", (proc.stderr, task)
    assert "no secret" in task["stdout"], task
    assert "ESCAPED" not in task["stdout"] and "PermissionError" in task["stderr"], task
