"""A run's memory is flat in its task count (issue 14): without --json it keeps a tally of every
task and the records of the tasks that are not ok (what the summary prints), not a record per
task; with --json every record is kept and written."""
import json
import subprocess
import sys

import pytest

from pyhost_testing import pyhost_bin, run_pyhost

# Starts pyhost from a small python that forks it and prints its exit code and peak RSS (the
# waited child's ru_maxrss, KiB). Not from pytest itself: a forked child's ru_maxrss starts at its
# parent's RSS, and pytest's would hide pyhost's. This launcher's (a few MB) is below pyhost's.
LAUNCHER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss_kb(*args):
    done = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, pyhost_bin(), *map(str, args)],
                          capture_output=True, text=True, timeout=600, check=True)
    code, kb = map(int, done.stdout.split())
    assert code == 0, args
    return kb


@pytest.mark.parametrize("mode", ["serial", "processes"])
def test_peak_rss_does_not_grow_with_the_task_count(mode):
    run = ["run", "--mode", mode, "-j2", "--tasks"]
    small = peak_rss_kb(*run, 20000, "-c", "pass")
    large = peak_rss_kb(*run, 100000, "-c", "pass")
    # A record per task took about 200 bytes: 80 000 tasks more held 16 MB more. What varies
    # from run to run (allocator, Python's own caches) stays well under 4 MB. Memory, not time:
    # a loaded machine only makes the runs slower.
    assert large - small < 4 * 1024, f"K=20000: {small} KiB, K=100000: {large} KiB"


FAIL_SOME = "import pyhost, sys\nif pyhost.task_id in (3, 17): sys.exit(5)\n"


@pytest.mark.parametrize("mode", ["serial", "threads", "processes"])
def test_summary_counts_every_task_and_names_each_failure(mode):
    done = run_pyhost(["run", "--mode", mode, "-j2", "--tasks", 50, "-c", FAIL_SOME])
    assert done.returncode == 1, done.stderr
    failures = [line for line in done.stderr.splitlines() if line.startswith("pyhost: task ")]
    assert failures == ["pyhost: task 3 failed: exit code 5", "pyhost: task 17 failed: exit code 5"]
    assert "48/50 tasks ok" in done.stderr


def test_json_keeps_every_record(tmp_path):
    out = tmp_path / "run.json"
    done = run_pyhost(["run", "--mode", "threads", "-j2", "--tasks", 50, "--json", out, "-c",
                       FAIL_SOME])
    assert done.returncode == 1, done.stderr
    tasks = json.loads(out.read_text())["tasks"]
    assert [t["id"] for t in tasks] == list(range(50))
    assert [t["id"] for t in tasks if t["status"] != "ok"] == [3, 17]
    assert "48/50 tasks ok" in done.stderr


def test_one_ok_task_exits_0_and_one_failed_task_with_its_code():
    assert run_pyhost(["run", "--tasks", 1, "-c", "pass"]).returncode == 0
    assert run_pyhost(["run", "--tasks", 1, "-c", "raise SystemExit(7)"]).returncode == 7


def test_resume_without_json_counts_the_resumed_tasks(tmp_path):
    flag = tmp_path / "fixed"
    code = (f"import os, pyhost, sys\n"
            f"if pyhost.task_id == 2 and not os.path.exists({str(flag)!r}): sys.exit(3)\n")
    journal = tmp_path / "journal"
    run = ["run", "--mode", "threads", "-j2", "--tasks", 5, "--journal", journal]
    first = run_pyhost([*run, "-c", code])
    assert first.returncode == 1 and "4/5 tasks ok" in first.stderr, first.stderr
    flag.touch()
    second = run_pyhost([*run, "--resume", journal, "-c", code])
    assert second.returncode == 0, second.stderr
    assert "4 of 5 tasks already ok" in second.stderr and "5/5 tasks ok" in second.stderr


def test_a_json_run_holds_records_not_their_whole_document(tmp_path):
    out = tmp_path / "run.json"
    run = ["run", "--mode", "serial", "-j2", "--json", out, "--tasks"]
    small = peak_rss_kb(*run, 20000, "-c", "pass")
    large = peak_rss_kb(*run, 100000, "-c", "pass")
    # The records (about 200 bytes a task: 16 MB for 80 000 more tasks) are kept for the file;
    # the document as JSON values (3 KB a task: 240 MB more) must never be whole in memory.
    assert large - small < 48 * 1024, f"K=20000: {small} KiB, K=100000: {large} KiB"
    assert len(json.loads(out.read_text())["tasks"]) == 100000
