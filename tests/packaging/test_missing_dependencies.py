"""A machine without pyhost's build dependencies gets, as the first thing CMake prints, one
message naming every missing one and the Debian packages to install (docs/install.md), before any
find_package that would fail with a trace. Packages are hidden with CMAKE_DISABLE_FIND_PACKAGE_*,
as if they were not installed; only the configure step runs (about a second)."""
import pathlib
import re
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def configure(tmp_path, *defines):
    if shutil.which("cmake") is None:
        pytest.skip("no cmake on PATH")
    return subprocess.run(["cmake", "-S", str(REPO), "-B", str(tmp_path / "build"),
                           *[f"-D{d}" for d in defines]],
                          capture_output=True, text=True, timeout=120)


def first_error(result):
    """The first CMake Error block of stderr: its text, without CMake's indentation."""
    text = result.stderr
    start = text.index("CMake Error")
    block = text[start:].split("Call Stack")[0]
    return " ".join(block.split())


def test_every_missing_library_is_named_once_with_its_debian_package(tmp_path):
    result = configure(tmp_path, "CMAKE_DISABLE_FIND_PACKAGE_spdlog=ON",
                       "CMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=ON",
                       "CMAKE_DISABLE_FIND_PACKAGE_CLI11=ON", "PYHOST_BUILD_TESTS=OFF")
    assert result.returncode != 0
    assert result.stderr.count("CMake Error") == 1, result.stderr
    error = first_error(result)
    assert "PyhostDependencies.cmake" in error, error
    assert "pyhost cannot be built: missing spdlog, CLI11, tomlplusplus." in error, error
    assert "sudo apt-get install libspdlog-dev libcli11-dev libtomlplusplus-dev then" in error, error
    # Nothing after the message: no compiler checks of the sources, no other package's trace.
    assert not re.search(r"Could not find a package configuration file", result.stderr)


def test_googletest_is_needed_only_when_the_tests_are_built(tmp_path):
    result = configure(tmp_path, "CMAKE_DISABLE_FIND_PACKAGE_GTest=ON",
                       "CMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON", "PYHOST_BUILD_TESTS=ON")
    assert result.returncode != 0
    error = first_error(result)
    assert "missing nlohmann_json, GTest." in error, error
    assert "sudo apt-get install nlohmann-json3-dev libgtest-dev libgmock-dev then" in error, error
    assert "-DPYHOST_BUILD_TESTS=OFF builds without them" in error, error
