"""End-to-end tests of `pyhost batch`: job files under tests/e2e/batch/, copied to a temp dir."""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

BATCH_DIR = pathlib.Path(__file__).resolve().parent / "batch"


def pyhost_bin() -> str:
    # Same default as pyhost_testing.run_pyhost (for the tests that need Popen).
    return os.environ.get("PYHOST_BIN", str(BATCH_DIR.parents[2] / "build" / "pyhost"))


@pytest.fixture
def work(tmp_path):
    """A private copy of tests/e2e/batch (jobs write files next to their job file)."""
    dest = tmp_path / "batch"
    shutil.copytree(BATCH_DIR, dest)
    return dest


def load(path):
    return json.loads(pathlib.Path(path).read_text())


def by_name(results):
    return {job["name"]: job for job in results["jobs"]}


def wait_for(predicate, timeout=60.0, what="condition"):
    """Polls `predicate` until it returns a true value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def results_with(path, name):
    """The results document once it lists job `name`, else None (never a torn read)."""
    try:
        doc = load(path)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return doc if name in by_name(doc) else None


def start_batch(args, cwd):
    return subprocess.Popen([pyhost_bin(), "batch", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_statuses_attempts_json_and_junit(pyhost, work):
    out = pyhost(["batch", "main.toml", "--jobs", "5", "--json", "r.json", "--junit", "j.xml"],
                 cwd=work)
    assert out.returncode == 1, out.stderr
    doc = load(work / "r.json")
    jobs = by_name(doc)
    assert list(jobs) == ["ok", "fail", "needs_fail", "endless", "flaky"]  # run order
    assert doc["complete"] is True and doc["interrupted"] is None
    assert doc["summary"] == {"total": 5, "pending": 0, "ok": 2, "failed": 1, "crashed": 0,
                              "timeout": 1, "skipped": 1}

    ok = jobs["ok"]
    assert (ok["status"], ok["attempts"], ok["exit_code"]) == ("ok", 1, 0)
    assert ok["stdout"] == "hello from ['--n', '3', 'two words']\n"  # argv, no shell
    assert ok["stderr"] == "to stderr\n"
    assert pathlib.Path(ok["stdout_file"]).read_text() == ok["stdout"]
    assert pathlib.Path(ok["stdout_file"]).parent == work / ".pyhost-results" / "main"
    assert ok["wall_s"] > 0 and ok["cpu_s"] > 0

    fail = jobs["fail"]
    assert (fail["status"], fail["attempts"], fail["exit_code"]) == ("failed", 1, 3)
    assert fail["reason"] == "exit code 3"
    assert "about to fail" in fail["stderr"]

    skipped = jobs["needs_fail"]
    assert (skipped["status"], skipped["attempts"], skipped["exit_code"]) == ("skipped", 0, None)
    assert "fail" in skipped["reason"]
    assert not (work / "needs_fail.ran").exists()  # never started
    assert not list((work / ".pyhost-results" / "main").glob("needs_fail.*"))

    endless = jobs["endless"]
    assert (endless["status"], endless["attempts"], endless["exit_code"]) == ("timeout", 1, None)
    assert 0.9 <= endless["wall_s"] < 30
    assert "timed out after 1 s" in endless["reason"]

    flaky = jobs["flaky"]
    assert (flaky["status"], flaky["attempts"], flaky["exit_code"]) == ("ok", 2, 0)
    assert [a["status"] for a in flaky["history"]] == ["failed", "ok"]
    assert flaky["history"][0]["exit_code"] == 1
    assert (work / "flaky.count").read_text() == "2"
    assert flaky["stdout"] == "attempt 2\n"

    suite = ET.parse(work / "j.xml").getroot().find("testsuite")
    assert suite.get("name") == "main"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("5", "2", "0", "1")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["ok", "fail", "needs_fail", "endless", "flaky"]
    assert cases["ok"].find("failure") is None and cases["ok"].find("skipped") is None
    assert cases["ok"].find("system-out").text == ok["stdout"]
    assert cases["fail"].find("failure").get("message") == "exit code 3"
    assert cases["fail"].find("failure").get("type") == "failed"
    assert cases["needs_fail"].find("skipped") is not None
    assert cases["endless"].find("failure").get("type") == "timeout"
    assert cases["flaky"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in cases["flaky"].iter("property")}
    assert props["attempts"] == "2"

    # Plain log lines when stderr is not a terminal, and a summary on stdout.
    assert re.search(r"^\[batch\] failed\s+fail .*exit code 3", out.stderr, re.M)
    assert re.search(r"^\[batch\] retry\s+flaky", out.stderr, re.M)
    assert "\x1b[K" not in out.stderr
    assert "2 ok, 1 failed, 1 timeout, 1 skipped" in out.stdout


def test_default_results_file_and_exit_zero(pyhost, work):
    (work / "good.toml").write_text(
        '[[job]]\nname = "a"\nscript = "ok.py"\n\n'
        '[[job]]\nname = "b"\ncode = "import os; print(os.environ[\'X\'], os.getcwd())"\n'
        'env = { X = "from env" }\ncwd = "sub"\nneeds = ["a"]\n\n'
        '[[job]]\nname = "c"\nmodule = "json.tool"\nargs = ["--help"]\n')
    (work / "sub").mkdir()
    out = pyhost(["batch", "good.toml"], cwd=work)
    assert out.returncode == 0, out.stderr
    jobs = by_name(load(work / ".pyhost-results" / "good" / "results.json"))
    assert [j["status"] for j in jobs.values()] == ["ok", "ok", "ok"]
    assert jobs["b"]["stdout"] == f"from env {work / 'sub'}\n"
    assert "usage" in jobs["c"]["stdout"].lower()


def test_cycle_is_rejected(pyhost, work):
    out = pyhost(["batch", "cycle.toml"], cwd=work)
    assert out.returncode == 2
    assert "cycle.toml:4: error: dependency cycle: a -> c -> b -> a" in out.stderr
    assert not (work / ".pyhost-results").exists()


def test_bad_toml_is_rejected(pyhost, work):
    out = pyhost(["batch", "bad.toml"], cwd=work)
    assert out.returncode == 2
    assert re.search(r"bad\.toml:3: error: invalid TOML", out.stderr), out.stderr
    assert not (work / ".pyhost-results").exists()


@pytest.mark.parametrize("text, message", [
    ('[[job]]\nname = "a"\nscirpt = "ok.py"\n', "v.toml:3: error: job 'a': unknown key 'scirpt' (did you mean 'script'?)"),
    ('[[job]]\nname = "a"\nscript = "ok.py"\nretries = "2"\n', "v.toml:4: error: job 'a': 'retries' must be an integer, not a string"),
    ('[[job]]\nname = "a"\nscript = "ok.py"\n[[job]]\nname = "a"\nscript = "ok.py"\n', "v.toml:5: error: duplicate job name 'a' (first defined at line 2)"),
    ('[[job]]\nname = "a"\nscript = "ok.py"\nneeds = ["b"]\n', "v.toml:4: error: job 'a' needs 'b', which is not a job in this file"),
    ('[[job]]\nname = "a"\nscript = "missing.py"\n', "v.toml:3: error: job 'a': script 'missing.py' not found"),
])
def test_invalid_job_files_name_file_and_line(pyhost, work, text, message):
    (work / "v.toml").write_text(text)
    out = pyhost(["batch", "v.toml"], cwd=work)
    assert out.returncode == 2
    assert message in out.stderr


def test_usage_errors_exit_2(pyhost, work):
    assert pyhost(["batch", "nope.toml"], cwd=work).returncode == 2
    out = pyhost(["batch", "main.toml", "--only", "no-such-job"], cwd=work)
    assert out.returncode == 2 and "no-such-job" in out.stderr
    out = pyhost(["batch", "main.toml", "--resume", "missing.json"], cwd=work)
    assert out.returncode == 2 and "missing.json" in out.stderr


def test_resume_reruns_only_what_did_not_succeed(pyhost, work):
    first = pyhost(["batch", "resume.toml", "--json", "r.json"], cwd=work)
    assert first.returncode == 1, first.stderr
    jobs = by_name(load(work / "r.json"))
    assert [jobs[n]["status"] for n in "abc"] == ["ok", "failed", "skipped"]
    assert sorted((work / "runs.log").read_text().split()) == ["a", "b"]  # a, b run in parallel

    (work / "fixed").write_text("")
    second = pyhost(["batch", "resume.toml", "--resume", "r.json", "--json", "r.json"], cwd=work)
    assert second.returncode == 0, second.stderr
    assert sorted((work / "runs.log").read_text().split()) == ["a", "b", "b", "c"]  # not a again
    doc = load(work / "r.json")
    jobs = by_name(doc)
    assert [jobs[n]["status"] for n in "abc"] == ["ok", "ok", "ok"]
    assert jobs["a"]["resumed"] is True and jobs["b"]["resumed"] is False
    assert doc["resumed_from"] == str(work / "r.json")

    # Nothing left to do: a third run starts nothing.
    third = pyhost(["batch", "resume.toml", "--resume", "r.json", "--json", "r2.json"], cwd=work)
    assert third.returncode == 0
    assert sorted((work / "runs.log").read_text().split()) == ["a", "b", "b", "c"]


def test_resume_reruns_a_job_whose_definition_changed(pyhost, work):
    assert pyhost(["batch", "kill.toml", "--only", "fast", "--json", "r.json"],
                  cwd=work).returncode == 0
    text = (work / "kill.toml").read_text().replace('script = "ok.py"',
                                                    'script = "ok.py"\nargs = ["changed"]')
    (work / "kill.toml").write_text(text)
    out = pyhost(["batch", "kill.toml", "--only", "fast", "--resume", "r.json", "--json", "r.json"],
                 cwd=work)
    assert out.returncode == 0
    assert "definition changed" in out.stderr
    assert "changed" in by_name(load(work / "r.json"))["fast"]["stdout"]


def test_sigkill_leaves_valid_json_of_finished_jobs(work):
    proc = start_batch(["kill.toml", "--jobs", "2", "--json", "r.json"], cwd=work)
    try:
        doc = wait_for(lambda: results_with(work / "r.json", "fast"), what="job 'fast' in r.json")
        wait_for(lambda: (work / "slow.started").exists(), what="job 'slow' to start")
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    doc = load(work / "r.json")  # still valid JSON
    jobs = by_name(doc)
    assert jobs["fast"]["status"] == "ok"
    assert "slow" not in jobs
    assert doc["complete"] is False and doc["summary"]["pending"] == 1
    # The orphaned job stops too (parent-death signal), so nothing runs on unrecorded.
    slow_pid = int((work / "slow.started").read_text())
    wait_for(lambda: not pathlib.Path(f"/proc/{slow_pid}").exists()
             or pathlib.Path(f"/proc/{slow_pid}/stat").read_text().split()[2] == "Z",
             timeout=30, what="the orphaned job to stop")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stop_signal_writes_results_and_exits(work, sig, code):
    proc = start_batch(["kill.toml", "--jobs", "2", "--json", "r.json", "--junit", "j.xml"],
                       cwd=work)
    try:
        wait_for(lambda: results_with(work / "r.json", "fast"), what="job 'fast' in r.json")
        wait_for(lambda: (work / "slow.started").exists(), what="job 'slow' to start")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    doc = load(work / "r.json")
    jobs = by_name(doc)
    assert doc["interrupted"] == sig.name
    assert jobs["fast"]["status"] == "ok"
    assert jobs["slow"]["status"] in ("failed", "crashed")
    assert jobs["slow"]["interrupted"] is True
    assert ET.parse(work / "j.xml").getroot().find("testsuite").get("tests") == "2"


def test_dry_run_prints_the_plan_and_runs_nothing(pyhost, work):
    out = pyhost(["batch", "main.toml", "--dry-run"], cwd=work)
    assert out.returncode == 0, out.stderr
    names = re.findall(r"^\s*\d+\. (\S+)", out.stdout, re.M)
    assert names == ["ok", "fail", "needs_fail", "endless", "flaky"]
    assert "needs: fail" in out.stdout
    assert "'two words'" in out.stdout
    assert not (work / ".pyhost-results").exists()
    assert not (work / "flaky.count").exists()


def test_only_pulls_in_needed_jobs(pyhost, work):
    out = pyhost(["batch", "resume.toml", "--only", "c", "--dry-run"], cwd=work)
    assert re.findall(r"^\s*\d+\. (\S+)", out.stdout, re.M) == ["b", "c"]
    assert "needed by a selected job" in out.stdout
    out = pyhost(["batch", "main.toml", "--only", "unstable", "--json", "r.json"], cwd=work)
    assert out.returncode == 0, out.stderr
    assert list(by_name(load(work / "r.json"))) == ["flaky"]


def test_fail_fast_starts_nothing_new(pyhost, work):
    out = pyhost(["batch", "resume.toml", "--jobs", "1", "--fail-fast", "--json", "r.json"],
                 cwd=work)
    assert out.returncode == 1
    jobs = by_name(load(work / "r.json"))
    assert [jobs[n]["status"] for n in "abc"] == ["ok", "failed", "skipped"]
    assert (work / "runs.log").read_text().split() == ["a", "b"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty")
def test_live_progress_line_on_a_terminal(work):
    import pty
    import select
    primary, secondary = pty.openpty()
    chunks = []
    try:
        proc = subprocess.Popen([pyhost_bin(), "batch", "resume.toml", "--json", "r.json"],
                                cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=secondary)
        os.close(secondary)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not select.select([primary], [], [], 0.5)[0]:
                continue
            try:
                data = os.read(primary, 4096)
            except OSError:  # EIO: pyhost exited and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=30)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    tty = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 1
    assert "\r\x1b[K" in tty
    assert re.search(r"\d/3 done, \d running, \d not ok \| .* elapsed, ETA", tty), tty
    assert "[batch] failed  b" in tty
