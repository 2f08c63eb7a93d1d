"""End-to-end tests of the CLI's help: every usage line names the program."""
import pytest

from pyhost_testing import run_pyhost


def usage_lines(text):
    return [line for line in text.splitlines() if line.startswith("Usage:")]


def test_top_level_help_names_pyhost():
    out = run_pyhost(["--help"])
    assert out.returncode == 0, out.stderr
    lines = usage_lines(out.stdout)
    assert lines, out.stdout
    assert all(line.startswith("Usage: pyhost ") for line in lines), lines
    assert "Usage: [OPTIONS]" not in out.stdout


@pytest.mark.parametrize("command", ["run", "compare", "batch", "info", "kernels"])
def test_command_help_names_pyhost_and_the_command(command):
    out = run_pyhost([command, "--help"])
    assert out.returncode == 0, out.stderr
    lines = usage_lines(out.stdout)
    assert lines, out.stdout
    assert all(line.startswith(f"Usage: pyhost {command}") for line in lines), lines


def test_version_is_the_projects_one():
    """`pyhost --version`: CMakeLists.txt's project(VERSION), the one place of the version (the
    pip package's metadata reads it there too, pyproject.toml)."""
    import re

    from pyhost_testing import REPO

    version = re.search(r"project\(pyhost VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text())
    out = run_pyhost(["--version"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"pyhost {version.group(1)}\n"
