"""bench/gpu_check.sh, the one-command GPU check, here with the stand-in driver
(tests/kernel/fake_libcuda.c): it must build the engine on its own with CMake, run every part
(NVRTC compiles and the driver path loads each kernel; nothing runs, so results mean nothing),
and write its JSON and Markdown. And the comparison its cuda_api part makes between a Numba CUDA
program's GPU and CPU output."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import gpu_check  # noqa: E402

PARTS = {"status", "correctness", "examples", "cuda_api", "bandwidth", "launch", "compile", "peers"}


def test_numbers_reads_what_the_programs_print():
    assert gpu_check.numbers("sum 49957.4 numpy 4.99e4 histogram [ 3 4] -2 .5") == \
        [49957.4, 49900.0, 3.0, 4.0, -2.0, 0.5]


@pytest.mark.parametrize("gpu, cpu, same", [
    ("pi: 3.1416733", "pi: 3.1416733", True),
    ("sum 49957.426781608585", "sum 49957.4267816086", True),  # atomics in another order
    ("max error: 9.1552734375e-05", "max error: 6.103515625e-05", True),  # FMA on the GPU
    ("pi: 0.0", "pi: 3.1416733", False),  # a kernel that did not run
    ("max error: 299997.0", "max error: 0.0", False),
    ("shape (37, 50, 65) mean 0.5", "shape (37, 50, 65)", False),  # a number missing
    ("sum 49950.0", "sum 49957.4", False),  # 1.5e-4 relative: more than a sum's order
])
def test_agree(gpu, cpu, same):
    assert gpu_check.agree(gpu, cpu) is same


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_gpu_check_runs_every_part_with_the_stand_in_driver(tmp_path):
    out = tmp_path / "out"
    res = subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh"), "--fake", str(out)],
                         env=dict(os.environ, PYTHON=sys.executable), capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["fake_driver"] is True
    assert set(report["parts"]) == PARTS
    for name, part in report["parts"].items():
        assert part["outcome"] in ("ran (stand-in)", "skipped"), (name, part)
    if report["parts"]["status"]["outcome"] == "skipped":
        pytest.skip(f"no NVRTC here: {report['parts']['status']['summary']}")
    # With NVRTC every part that needs only the driver path ran, the Numba CUDA programs included:
    # each compiled for the device and launched (rc 0) even though nothing ran.
    for name in ("correctness", "examples", "cuda_api", "bandwidth", "launch", "compile"):
        assert report["parts"][name]["outcome"] == "ran (stand-in)", name
    programs = sorted(p.name for p in (REPO / "scripts" / "numba_cuda").glob("*.py"))
    assert sorted(report["cuda_api"]) == programs
    assert all(r["rc"] == 0 for r in report["cuda_api"].values()), report["cuda_api"]
    md = (out / "gpu_check.md").read_text()
    assert md.startswith("Stand-in driver") and "| cuda_api | ran (stand-in) |" in md
