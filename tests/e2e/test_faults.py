"""Faults in user scripts never take the host down or lose other tasks' results (issue: process
workers, crash isolation, timeouts, limits, signals). Every test bounds its own run time."""
import json
import os
import signal
import subprocess
import time

import pytest

from pyhost_testing import pyhost_bin, run_pyhost

ALL_MODES = ["serial", "threads", "subinterpreters", "processes"]


def load(path):
    return json.loads(path.read_text())


def by_id(report):
    return {t["id"]: t for t in report["tasks"]}


def test_crashing_workers_are_isolated_and_replaced(tmp_path):
    script = tmp_path / "faults.py"
    script.write_text(
        "import ctypes, os, signal, pyhost\n"
        "k = pyhost.task_id\n"
        "print('start', k, flush=True)\n"
        "if k == 1: ctypes.string_at(0)\n"
        "if k == 2: os.abort()\n"
        "if k == 3: os._exit(7)\n"
        "if k == 4: os.kill(os.getpid(), signal.SIGKILL)\n"
        "print('end', k)\n")
    report = tmp_path / "r.json"
    out = run_pyhost(["run", "--mode", "processes", "-j", "2", "--tasks", "6", "--json", report, script],
                     timeout=60)
    assert out.returncode == 1
    tasks = by_id(load(report))
    assert [tasks[k]["status"] for k in range(6)] == ["ok", "crashed", "crashed", "crashed", "crashed", "ok"]
    assert tasks[1]["error"] == "worker killed by SIGSEGV" and tasks[1]["exit_code"] == 128 + 11
    assert tasks[2]["error"] == "worker killed by SIGABRT"
    assert tasks[3]["error"] == "worker exited with status 7" and tasks[3]["exit_code"] == 7
    assert tasks[4]["error"] == "worker killed by SIGKILL"
    for k in (0, 5):
        assert tasks[k]["stdout"] == f"start {k}\nend {k}\n"
    for k in (1, 2, 3, 4):  # what a task wrote before it crashed is kept
        assert tasks[k]["stdout"] == f"start {k}\n"
    assert "task 1 crashed: worker killed by SIGSEGV" in out.stderr


def test_memory_bomb_hits_the_limit_not_the_host(tmp_path):
    report = tmp_path / "r.json"
    code = ("import pyhost\n"
            "if pyhost.task_id == 0:\n"
            "    hog = bytearray(4 * 1024 ** 3)\n"
            "print('fine', pyhost.task_id)\n")
    out = run_pyhost(["run", "--mode", "processes", "-j", "1", "--tasks", "2", "--memory-limit", "400",
                      "--json", report, "-c", code], timeout=60)
    assert out.returncode == 1
    tasks = by_id(load(report))
    assert tasks[0]["status"] in ("failed", "crashed")
    if tasks[0]["status"] == "failed":
        assert "MemoryError" in tasks[0]["stderr"]
    assert tasks[1]["status"] == "ok" and tasks[1]["stdout"] == "fine 1\n"


@pytest.mark.parametrize("mode", ALL_MODES)
def test_endless_loop_times_out_in_every_mode(tmp_path, mode):
    report = tmp_path / "r.json"
    code = ("import pyhost\n"
            "if pyhost.task_id == 0:\n"
            "    while True: pass\n"
            "print('done', pyhost.task_id)\n")
    started = time.monotonic()
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "3", "--timeout", "1", "--json", report,
                      "-c", code], timeout=60)
    took = time.monotonic() - started
    assert out.returncode == 1
    tasks = by_id(load(report))
    assert tasks[0]["status"] == "timeout"
    assert "TimeoutError: the task ran longer than its 1 s timeout" in tasks[0]["stderr"]
    assert [tasks[k]["stdout"] for k in (1, 2)] == ["done 1\n", "done 2\n"]
    assert took < 1 + 2 + 15  # timeout + kill-after + start-up on a loaded machine


def test_c_level_sleep_is_killed_in_processes_mode(tmp_path):
    report = tmp_path / "r.json"
    code = ("import ctypes, pyhost\n"
            "if pyhost.task_id == 0:\n"
            "    ctypes.CDLL(None).sleep(600)\n"
            "print('done', pyhost.task_id)\n")
    started = time.monotonic()
    out = run_pyhost(["run", "--mode", "processes", "-j", "2", "--tasks", "2", "--timeout", "1",
                      "--kill-after", "0.5", "--json", report, "-c", code], timeout=60)
    assert time.monotonic() - started < 20
    tasks = by_id(load(report))
    assert tasks[0]["status"] == "timeout" and "killed 0.5 s after its 1 s timeout" in tasks[0]["error"]
    assert tasks[1]["status"] == "ok"
    assert out.returncode == 1


@pytest.mark.parametrize("mode", ["threads", "subinterpreters", "serial"])
def test_c_level_sleep_in_process_is_reported_and_the_host_exits(tmp_path, mode):
    report = tmp_path / "r.json"
    code = ("import ctypes, pyhost\n"
            "if pyhost.task_id == 0:\n"
            "    ctypes.CDLL(None).sleep(600)\n"
            "print('done', pyhost.task_id)\n")
    started = time.monotonic()
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "3", "--timeout", "1", "--kill-after", "0.5",
                      "--json", report, "-c", code], timeout=60)
    assert time.monotonic() - started < 20
    assert out.returncode == 1
    tasks = by_id(load(report))
    assert tasks[0]["status"] == "timeout" and "abandoned" in tasks[0]["error"]
    assert [tasks[k]["stdout"] for k in (1, 2)] == ["done 1\n", "done 2\n"]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_leftover_non_daemon_thread_times_out_without_hanging(tmp_path, mode):
    report = tmp_path / "r.json"
    code = ("import threading, time, pyhost\n"
            "if pyhost.task_id == 0:\n"
            "    threading.Thread(target=time.sleep, args=(3600,)).start()\n"
            "print('done', pyhost.task_id)\n")
    started = time.monotonic()
    out = run_pyhost(["run", "--mode", mode, "-j", "2", "--tasks", "3", "--timeout", "1", "--json", report,
                      "-c", code], timeout=60)
    assert time.monotonic() - started < 20
    tasks = by_id(load(report))
    assert [tasks[k]["status"] for k in range(3)] == ["timeout", "ok", "ok"]
    assert tasks[0]["stdout"] == "done 0\n"
    assert out.returncode == 1


def test_huge_output_streams_without_blocking_others(tmp_path):
    code = ("import sys, pyhost\n"
            "if pyhost.task_id == 0:\n"
            "    line = 'x' * 99 + '\\n'\n"
            "    for _ in range(200_000): sys.stdout.write(line)\n"
            "else:\n"
            "    print('small', pyhost.task_id)\n")
    out = run_pyhost(["run", "--mode", "processes", "-j", "2", "--tasks", "3", "-c", code], timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    lines = out.stdout.splitlines()
    assert lines.count("[task 0] " + "x" * 99) == 200_000
    assert "[task 1] small 1" in lines and "[task 2] small 2" in lines
    assert len(lines) == 200_002


def test_processes_mode_runs_with_an_empty_stdin():
    out = run_pyhost(["run", "--mode", "processes", "-j", "1", "--tasks", "1", "-c",
                      "import sys; print(repr(sys.stdin.read()))"], input="ignored\n")
    assert out.stdout == "''\n"


def test_closed_stdin_behaves_like_python(python_exe):
    code = "import sys; print(sys.stdin is None)"
    plain = subprocess.run([python_exe, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           preexec_fn=lambda: os.close(0))
    hosted = subprocess.run([pyhost_bin(), "run", "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, preexec_fn=lambda: os.close(0))
    assert hosted.stdout == plain.stdout == "True\n"
    assert hosted.returncode == plain.returncode == 0


@pytest.mark.parametrize("mode,sig,code", [("processes", signal.SIGINT, 130), ("threads", signal.SIGINT, 130),
                                           ("subinterpreters", signal.SIGTERM, 143),
                                           ("processes", signal.SIGTERM, 143)])
def test_interrupting_the_host_keeps_finished_results(tmp_path, mode, sig, code):
    report = tmp_path / "r.json"
    script = tmp_path / "slow.py"
    script.write_text("import time, pyhost\n"
                      "if pyhost.task_id == 0:\n"
                      "    print('quick', flush=True)\n"
                      "else:\n"
                      "    time.sleep(60)\n")
    proc = subprocess.Popen([pyhost_bin(), "run", "--mode", mode, "-j", "2", "--tasks", "4", "--json", str(report),
                             str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait (bounded) until task 0 has finished: its line is the first output.
    line = proc.stdout.readline()
    assert line == "[task 0] quick\n"
    started = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == code
    tasks = by_id(load(report))
    assert tasks[0]["status"] == "ok" and tasks[0]["stdout"] == "quick\n"
    assert all(tasks[k]["status"] != "ok" for k in (1, 2, 3))
    assert "tasks ok" in err
