"""End-to-end tests: what pyhost.Executor's process workers print is the calling task's output.

It comes out as that task's whole lines ("[task k] ..." with several tasks, in --json its
stdout/stderr), before the results of the calls that printed it, in every host mode.
"""
import json

import pytest

from pyhost_testing import run_pyhost

SCRIPT = (
    "import sys\n"
    "import pyhost\n"
    "\n"
    "def work(x):\n"
    "    print(f'out {x} of task {pyhost.task_id}')\n"
    "    print(f'err {x} of task', end=' ', file=sys.stderr)\n"
    "    print(pyhost.task_id, file=sys.stderr)\n"
    "    return x\n"
    "\n"
    "if __name__ == '__main__':\n"
    "    with pyhost.Executor('processes', workers=2) as ex:\n"
    "        total = sum(ex.map(work, range(4), chunksize=1))\n"
    "        print(f'total {total} of task {pyhost.task_id}')\n"
)

CALLS = range(4)


@pytest.mark.parametrize("mode", ["serial", "threads", "subinterpreters", "processes"])
def test_process_worker_output_is_the_calling_tasks(tmp_path, mode):
    script = tmp_path / "executor_prints.py"
    script.write_text(SCRIPT)
    report = tmp_path / "run.json"
    out = run_pyhost(["run", "--mode", mode, "-j2", "--tasks", 2, "--json", report, script])
    assert out.returncode == 0, out.stderr
    stdout_lines = out.stdout.splitlines()
    stderr_lines = [line for line in out.stderr.splitlines() if not line.startswith("pyhost: ")]
    for task in (0, 1):
        tag = f"[task {task}] "
        mine = [line[len(tag):] for line in stdout_lines if line.startswith(tag)]
        assert sorted(mine[:-1]) == [f"out {x} of task {task}" for x in CALLS], out.stdout
        assert mine[-1] == f"total 6 of task {task}", out.stdout  # the output came first
        mine = sorted(line[len(tag):] for line in stderr_lines if line.startswith(tag))
        assert mine == [f"err {x} of task {task}" for x in CALLS], out.stderr
    assert all(line.startswith("[task ") for line in stdout_lines), out.stdout
    assert all(line.startswith("[task ") for line in stderr_lines), out.stderr

    tasks = {entry["id"]: entry for entry in json.loads(report.read_text())["tasks"]}
    for task in (0, 1):
        lines = tasks[task]["stdout"].splitlines()
        assert sorted(lines[:-1]) == [f"out {x} of task {task}" for x in CALLS]
        assert lines[-1] == f"total 6 of task {task}"
        assert sorted(tasks[task]["stderr"].splitlines()) == [f"err {x} of task {task}" for x in CALLS]


def test_process_worker_output_of_one_plain_task(tmp_path):
    script = tmp_path / "executor_prints.py"
    script.write_text(SCRIPT)
    out = run_pyhost(["run", script])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert sorted(lines[:-1]) == [f"out {x} of task 0" for x in CALLS]
    assert lines[-1] == "total 6 of task 0"
    assert sorted(out.stderr.splitlines()) == [f"err {x} of task 0" for x in CALLS]
