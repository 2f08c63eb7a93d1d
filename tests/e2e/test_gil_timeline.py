"""The GIL sampler, end to end, on cases whose answer is known: two CPU-bound threads on one GIL
take turns, two sub-interpreters each hold their own, a sleeping task is off-CPU. Assertions are
tolerant: the machine running the tests may be busy."""
import json

import pytest

from pyhost_testing import SCRIPTS, run_pyhost

# Long enough for a few hundred switches, short enough for a loaded 2-core machine.
SPIN = "import time\nend = time.thread_time() + {seconds}\nwhile time.thread_time() < end: pass\n"


def run_json(tmp_path, mode, workers, tasks, script_text, *args, env=None):
    script = tmp_path / "task.py"
    script.write_text(script_text)
    report = tmp_path / f"{mode}.json"
    out = run_pyhost(["run", "--mode", mode, "-j", workers, "--tasks", tasks, "--json", report,
                      script, *args], env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(report.read_text())


def held_over_time(doc, interpreter):
    """Per worker of `interpreter`, the seconds its segments say it held the GIL."""
    return {w["worker"]: sum(e - s for s, e, state in w["segments"] if state == "held")
            for w in doc["gil_segments"] if w["interpreter"] == interpreter}


def test_info_says_the_gil_is_read_with_this_cpython():
    # Every CPython pyhost builds against has a verified GIL layout: a new one must not fall back
    # to estimates silently (pyhost info would say "unsupported CPython X.Y layout").
    info = json.loads(run_pyhost(["info", "--json"], check=True).stdout)
    if info["free_threaded"]:
        pytest.skip("free-threaded CPython: no GIL")
    version = ".".join(info["python"].split(".")[:2])
    line = f"reads the GIL (CPython {version} layout)"
    assert info["gil_sampler"] == {"reads_gil": True, "layout": version, "status": line}
    assert f"gil sampler {line}" in run_pyhost(["info"], check=True).stdout.splitlines()


def test_two_cpu_bound_threads_take_turns_on_one_gil(tmp_path):
    doc = run_json(tmp_path, "threads", 2, 2, SPIN.format(seconds=0.6))
    assert doc["gil_sampling"]["source"] == "gil", doc["gil_sampling"]
    # 1 ms apart when the machine is idle; a sampler kept off the CPUs samples less often.
    assert doc["gil_sampling"]["period_s"] < 0.01
    assert doc["gil_sampling"]["samples"] > 50
    tasks = doc["tasks"]
    for task in tasks:
        wall = task["wall_s"]
        assert task["gil_held_s"] + task["gil_wait_s"] + task["off_cpu_s"] == pytest.approx(wall)
        # Each holds it about half of the time they both run, and waits most of the rest.
        assert 0.3 < task["gil_held_s"] / wall < 0.75, task
        assert task["gil_wait_s"] / wall > 0.2, task
        assert task["off_cpu_s"] / wall < 0.15, task
    # One GIL: the holding fractions sum to at most 1 (plus sampling error).
    assert {w["interpreter"] for w in doc["gil_segments"]} == {0}
    span = max(t["end_s"] for t in tasks) - min(t["start_s"] for t in tasks)
    assert sum(held_over_time(doc, 0).values()) <= span * 1.02
    # About one switch per switch interval (5 ms) while both run.
    both = min(t["end_s"] for t in tasks) - max(t["start_s"] for t in tasks)
    rate = doc["gil_switches"] / both
    assert 0.3 / 0.005 < rate < 2.0 / 0.005, (doc["gil_switches"], both)


def test_segments_are_merged_runs_in_time_order(tmp_path):
    doc = run_json(tmp_path, "threads", 2, 2, SPIN.format(seconds=0.2))
    for worker in doc["gil_segments"]:
        segments = worker["segments"]
        assert segments
        for (s0, e0, a), (s1, e1, b) in zip(segments, segments[1:]):
            assert s0 < e0 <= s1 + 1e-9 and a != b
        assert {state for _, _, state in segments} <= {"held", "wait", "off"}


def test_switch_rate_follows_the_switch_interval(tmp_path):
    # A 20 ms interval: about 50 switches a second instead of 200.
    text = "import sys\nsys.setswitchinterval(0.02)\n" + SPIN.format(seconds=0.6)
    doc = run_json(tmp_path, "threads", 2, 2, text)
    tasks = doc["tasks"]
    both = min(t["end_s"] for t in tasks) - max(t["start_s"] for t in tasks)
    rate = doc["gil_switches"] / both
    assert 0.3 / 0.02 < rate < 2.0 / 0.02, (doc["gil_switches"], both)


def test_two_subinterpreters_each_hold_their_own_gil(tmp_path):
    doc = run_json(tmp_path, "subinterpreters", 2, 2, SPIN.format(seconds=0.5))
    assert doc["gil_sampling"]["source"] == "gil"
    assert len({w["interpreter"] for w in doc["gil_segments"]}) == 2
    for task in doc["tasks"]:
        assert task["gil_held_s"] / task["wall_s"] > 0.85, task
        assert task["gil_wait_s"] / task["wall_s"] < 0.05, task


def test_a_sleeping_task_is_off_cpu_not_waiting(tmp_path):
    doc = run_json(tmp_path, "threads", 2, 2, "import time\ntime.sleep(0.4)\n")
    for task in doc["tasks"]:
        assert task["off_cpu_s"] / task["wall_s"] > 0.85, task
        assert task["gil_wait_s"] / task["wall_s"] < 0.05, task


def test_sleep_beside_a_cpu_bound_thread(tmp_path):
    # Task 0 computes, task 1 sleeps: the sleeper is off-CPU, the computer holds the GIL.
    text = ("import pyhost, time\n"
            "if pyhost.task_id == 0:\n" + "\n".join("    " + line for line in
                                                    SPIN.format(seconds=0.4).splitlines()) +
            "\nelse:\n    time.sleep(0.4)\n")
    doc = run_json(tmp_path, "threads", 2, 2, text)
    by_id = {t["id"]: t for t in doc["tasks"]}
    assert by_id[0]["gil_held_s"] / by_id[0]["wall_s"] > 0.8, by_id[0]
    assert by_id[1]["off_cpu_s"] / by_id[1]["wall_s"] > 0.85, by_id[1]


def test_disabled_sampler_and_modes_without_it_write_nulls(tmp_path):
    doc = run_json(tmp_path, "threads", 2, 2, "pass\n", env={"PYHOST_GIL_SAMPLER": "0"})
    assert doc["gil_switches"] is None and doc["gil_segments"] is None
    assert all(t["gil_held_s"] is None and t["off_cpu_s"] is None for t in doc["tasks"])
    doc = run_json(tmp_path, "processes", 2, 2, "pass\n")
    assert doc["gil_sampling"] is None
    assert all(t["gil_wait_s"] is None for t in doc["tasks"])


def test_compare_shows_the_switching(tmp_path):
    html = tmp_path / "r.html"
    report = tmp_path / "r.json"
    out = run_pyhost(["compare", SCRIPTS / "cpu_bound.py", "--workers", "2", "--modes",
                      "threads,subinterpreters", "--repeat", "1", "--warmup", "0", "--json",
                      report, "--html", html, "--", "600000"], timeout=600)
    assert out.returncode == 0, out.stderr
    # The terminal's text timeline: one line per worker of each mode, readable without colour.
    lines = out.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("GIL timelines"))
    block = lines[start:]
    threads = next(i for i, line in enumerate(block) if line.lstrip().startswith("threads -j2"))
    workers = [line for line in block[threads + 1:threads + 3]]
    assert all(line.lstrip().startswith("worker") for line in workers), block
    # Taking turns: each thread's line shows both holding and waiting.
    assert all("\u2588" in line and "\u2591" in line for line in workers), block
    doc = json.loads(report.read_text())
    by_mode = {r["mode"]: r for r in doc["results"] if r["workers"] == 2}
    assert by_mode["threads"]["gil_sampled"] is True
    assert 0.25 < by_mode["threads"]["gil_wait"] < 0.75
    assert by_mode["subinterpreters"]["gil_wait"] < 0.1
    assert by_mode["threads"]["gil_segments"]
    page = html.read_text()
    assert 'class="gil-detail chart"' in page and 'class="gil wait"' in page


def test_estimate_from_scheduler_states_is_labelled(tmp_path):
    # Where the GIL cannot be read (another CPython), the scheduler states stand in; forced here.
    doc = run_json(tmp_path, "threads", 2, 2, "import time\ntime.sleep(0.3)\n",
                   env={"PYHOST_GIL_SAMPLER": "estimate"})
    assert doc["gil_sampling"]["source"] == "estimate"
    assert "estimate" in doc["gil_sampling"]["note"]
    for task in doc["tasks"]:
        # Sleeping: neither on a CPU nor blocked on a lock.
        assert task["off_cpu_s"] / task["wall_s"] > 0.8, task
