"""`pytest tests/` from the repository root, a contributor's first command, collects every suite
without an error, and so it does from other directories. It stopped at collection when two test
folders had a module of the same name (test_freethreaded.py, "import file mismatch") and when test
modules imported their helpers with `from conftest import ...` (several folders have one)."""
import pathlib
import subprocess
import sys

import pytest

from pyhost_testing import REPO


def collect(cwd, *targets):
    # -qq: one "file: count" line per module, so that test names (some say "error") stay out.
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-qq",
                           "-p", "no:cacheprovider", *map(str, targets)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    return done, done.stdout + done.stderr


def counts(output):
    per_file = {}
    for line in output.splitlines():
        path, sep, count = line.rpartition(": ")
        if sep and count.isdigit():
            per_file[pathlib.PurePath(path).as_posix()] = int(count)
    return per_file


@pytest.mark.parametrize("where", ["root", "tests folder", "elsewhere"])
def test_pytest_collects_every_suite(where, tmp_path):
    cwd, targets = {"root": (REPO, ["tests/"]),
                    "tests folder": (REPO / "tests", ["e2e", "kernel", "python"]),
                    "elsewhere": (tmp_path, [REPO / "tests"])}[where]
    done, output = collect(cwd, *targets)
    assert done.returncode == 0, output
    assert "error" not in output.lower(), output
    found = {path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]: n for path, n in counts(output).items()}
    # Both folders whose helpers used to collide, each test module of theirs with its tests.
    for folder in ("e2e", "kernel"):
        modules = sorted(p.name for p in (REPO / "tests" / folder).glob("test_*.py"))
        assert modules and all(found.get(f"{folder}/{name}", 0) > 0 for name in modules), output


def test_the_inside_pyhost_suite_is_skipped_with_its_command_under_plain_python():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "tests/python"], cwd=REPO, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "pyhost run -m pytest tests/python" in output and " skipped" in output, output
    assert "passed" not in output and "error" not in output.lower(), output


def test_test_module_names_are_unique():
    # pytest imports test modules of folders without __init__.py by their bare name.
    names = {}
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
