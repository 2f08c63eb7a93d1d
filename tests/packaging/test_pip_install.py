"""pyhost as Python people install it (docs/install.md): an sdist of this checkout, a wheel built
from that sdist, installed into a fresh venv in a temporary directory that has nothing of the
checkout (cwd there, no PYTHONPATH, no PYHOST_* variables), and `pip install .` of the checkout
into another fresh venv. In each venv the `pyhost` command, `python -m pyhost`, `import pyhost`,
a plain-python pyhost.Executor("processes") and ("subinterpreters") and `pyhost compare` must
work and say what they are.

Each build compiles pyhost (Release, no tests): with ccache on PATH both go through it, and the
second is mostly hits. The python the venvs are made from is the CPython pyhost embeds
($PYHOST_PYTHON_EXE, as ctest sets it); the sdist and the wheel are built by this interpreter
(the checkout's .venv, which has `build` and scikit-build-core from requirements-dev.txt).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1800  # one cold build of pyhost on 2 cores, with room
RUN_TIMEOUT = 300


def project_version():
    """The one version: CMakeLists.txt's project(pyhost VERSION ...)."""
    text = (REPO / "CMakeLists.txt").read_text()
    return re.search(r"project\(pyhost VERSION ([0-9]+\.[0-9]+\.[0-9]+)", text).group(1)


def base_python():
    exe = os.environ.get("PYHOST_PYTHON_EXE")
    if not exe:
        pytest.fail("PYHOST_PYTHON_EXE is not set: run this through ctest (tests/CMakeLists.txt)")
    version = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.split()
    if tuple(map(int, version)) < (3, 12):
        # pyproject.toml's requires-python: a checkout built against 3.11 has no pip package.
        pytest.skip(f"the pip package needs CPython 3.12+, and {exe} is {'.'.join(version)}")
    return exe


def clean_env(**extra):
    """The environment of a user's shell: none of the checkout's or the test run's settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYHOST_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(extra)
    return env


def build_env():
    """Builds go through ccache when there is one, two jobs at a time, Release, no tests (the
    wheel's default), verbose enough to read a failure."""
    env = clean_env()
    args = []
    if shutil.which("ccache"):
        args += ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    if args:
        env["CMAKE_ARGS"] = " ".join(args)
        # Paths hashed relative to the build directory: the checkout's build (second) hits what
        # the unpacked sdist's (in pip's temporary directory) put in the cache.
        env.setdefault("CCACHE_BASEDIR", "/")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "2")
    return env


def run(argv, cwd, env=None, timeout=RUN_TIMEOUT, check=True):
    result = subprocess.run([str(a) for a in argv], cwd=cwd, env=env or clean_env(),
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited with {result.returncode}:\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def make_venv(path):
    result = run([base_python(), "-m", "venv", path], cwd=path.parent, check=False)
    if result.returncode != 0:
        # Debian's python3 without python3-venv (ensurepip) cannot make one: nothing to test with.
        pytest.skip(f"cannot make a venv with {base_python()}: {result.stderr.strip()[-300:]}")
    return path


def need_build_tools():
    missing = [name for name in ("build", "scikit_build_core")
               if subprocess.run([sys.executable, "-c", f"import {name}"],
                                 capture_output=True).returncode != 0]
    if missing:
        pytest.fail(f"{sys.executable} lacks {', '.join(missing)}: "
                    f"`{sys.executable} -m pip install -r requirements-dev.txt`")


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """A directory with nothing of the checkout in it."""
    path = tmp_path_factory.mktemp("outside")
    assert REPO not in path.parents
    return path


@pytest.fixture(scope="module")
def wheel(outside):
    """sdist of the checkout -> a wheel built from that sdist (not from the checkout)."""
    need_build_tools()
    base_python()  # skips before building where there is no CPython 3.12+ to install into
    dist = outside / "dist"
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", dist, REPO],
        cwd=outside, env=build_env(), timeout=BUILD_TIMEOUT)
    sdists = list(dist.glob("pyhost-*.tar.gz"))
    assert [p.name for p in sdists] == [f"pyhost-{project_version()}.tar.gz"]
    run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "--wheel-dir", dist, sdists[0]], cwd=outside, env=build_env(), timeout=BUILD_TIMEOUT)
    wheels = list(dist.glob("pyhost-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_venv(outside, wheel):
    venv = make_venv(outside / "venv-wheel")
    # --no-index: the wheel needs nothing else.
    run([venv / "bin/python", "-m", "pip", "install", "--no-index", "--no-deps", wheel], cwd=outside)
    return venv


def sdist_members(sdist):
    import tarfile

    with tarfile.open(sdist) as archive:
        return [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]


def test_sdist_has_what_the_build_needs_and_no_build_trees(outside, wheel):
    (sdist,) = wheel.parent.glob("pyhost-*.tar.gz")
    members = sdist_members(sdist)
    for needed in ("pyproject.toml", "CMakeLists.txt", "cmake/PyhostDependencies.cmake",
                   "host/cli/main.cpp", "runtime/pyhost/__init__.py", "runtime/pyhost/__main__.py"):
        assert needed in members
    for member in members:
        assert not re.match(r"(build[^/]*|\.venv[^/]*)/", member), member
        assert "__pycache__" not in member and not member.endswith(".pyc"), member


def test_wheel_holds_the_program_libraries_and_runtime(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "pyhost/_bin/pyhost" in names
    assert "pyhost/__init__.py" in names and "pyhost/__main__.py" in names
    assert "pyhost/_lib/libpyhost.so" in names
    assert "pyhost/_include/pyhost/run.hpp" in names
    assert "pyhost/_lib/cmake/pyhost/pyhostConfig.cmake" in names
    assert any(re.fullmatch(r"_pyhost_kernels\..*\.so", n) for n in names), names
    assert any(re.fullmatch(r"_pyhost_subinterpreters\..*\.so", n) for n in names), names
    assert not any("__pycache__" in n or n.startswith("share/") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "pyhost = pyhost.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def check_installed(venv, cwd):
    """What a user of `venv` sees, from `cwd`: the command, the module, the package, the version,
    the interpreter `pyhost info` names, an Executor of process workers, and `pyhost compare`."""
    python = venv / "bin/python"
    site = pathlib.Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            cwd).stdout.strip())
    version = project_version()

    # One version: the program's, the package metadata's and CMakeLists.txt's.
    out = run([venv / "bin/pyhost", "--version"], cwd).stdout
    assert version in out.split(), out
    metadata = run([python, "-c", "import importlib.metadata as m; print(m.version('pyhost'))"], cwd)
    assert metadata.stdout.strip() == version

    # `pyhost info`, with the venv not activated: the venv's python, the package as the runtime.
    info = run([venv / "bin/pyhost", "info"], cwd).stdout
    assert f"pyhost {version}\n" in info
    assert re.search(rf"^python +3\.\d+\.\d+.* \({re.escape(str(python))}\)$", info, re.M), info
    assert re.search(rf"^runtime +{re.escape(str(site))}$", info, re.M), info
    assert re.search(rf"^venv +{re.escape(str(venv))}$", info, re.M), info

    # `python -m pyhost` is the same program.
    doc = json.loads(run([python, "-m", "pyhost", "info", "--json"], cwd).stdout)
    assert doc["pyhost"] == version
    assert doc["executable"] == str(python) and doc["venv"] == str(venv)
    assert doc["runtime"] == str(site)
    assert doc["interpreters"][0]["pyhost"] == str(site / "pyhost/_bin/pyhost")

    # `import pyhost` in the venv's plain python: the installed package, its kernels' module.
    where = run([python, "-c", "import pyhost, _pyhost_kernels, pyhost._binary as b; "
                 "print(pyhost.__file__); print(_pyhost_kernels.__file__); print(b.executable())"],
                cwd).stdout.split("\n")
    assert where[0] == str(site / "pyhost/__init__.py")
    assert pathlib.Path(where[1]).parent == site
    assert where[2] == str(site / "pyhost/_bin/pyhost")

    # pyhost.Executor("processes") from plain python: worker processes of the installed program.
    script = cwd / "squares.py"
    script.write_text(textwrap.dedent("""
        import os
        import pyhost

        def square(x):
            return x * x, os.getpid()

        if __name__ == "__main__":
            with pyhost.Executor("processes", workers=2) as ex:
                results = list(ex.map(square, range(20)))
            pids = {pid for _, pid in results}
            print(ex.mode, sum(value for value, _ in results), os.getpid() in pids, len(pids) >= 1)
    """))
    result = run([python, script], cwd)
    assert result.stdout == "processes 2470 False True\n"
    assert "Warning" not in result.stderr, result.stderr

    # pyhost.Executor("subinterpreters") from plain python: own-GIL sub-interpreters of this
    # process, through the installed _pyhost_subinterpreters extension (no fallback warning).
    script = cwd / "squares_in_interpreters.py"
    script.write_text(textwrap.dedent("""
        import os
        import _interpreters
        import pyhost
        import _pyhost_subinterpreters

        def square(x):
            import _interpreters
            return x * x, _interpreters.get_current()[0], os.getpid()

        if __name__ == "__main__":
            with pyhost.Executor("subinterpreters", workers=2) as ex:
                results = list(ex.map(square, range(20)))
            interps = {interp for _, interp, _ in results}
            print(ex.mode, sum(value for value, _, _ in results),
                  _interpreters.get_current()[0] in interps, {pid for *_, pid in results} == {os.getpid()})
            print(_pyhost_subinterpreters.__file__)
    """))
    result = run([python, script], cwd)
    lines = result.stdout.splitlines()
    assert lines[0] == "subinterpreters 2470 False True", result.stdout
    assert pathlib.Path(lines[1]).parent == site
    assert "Warning" not in result.stderr, result.stderr

    # `pyhost compare` on a script of this directory.
    work = cwd / "work.py"
    work.write_text("total = sum(i * i for i in range(20000))\nprint(total)\n")
    result = run([venv / "bin/pyhost", "compare", "--modes", "serial,processes", "--workers", "2",
                  "--repeat", "1", "--warmup", "0", "--color", "never", "--json", cwd / "compare.json",
                  work], cwd)
    assert "processes" in result.stdout and "serial" in result.stdout, result.stdout
    report = json.loads((cwd / "compare.json").read_text())
    assert report["python"].startswith("3.")
    runs = {(r["mode"], r["workers"]): r for r in report["results"]}
    assert {("serial", 1), ("processes", 2)} <= set(runs), sorted(runs)
    assert all(r["median_s"] > 0 for r in runs.values())


def test_wheel_from_the_sdist_works_in_a_fresh_venv_outside_the_checkout(outside, wheel_venv):
    cwd = outside / "user"
    cwd.mkdir()
    check_installed(wheel_venv, cwd)


def test_pip_install_dot_from_the_checkout(outside, wheel):
    # After the wheel fixture: its build filled ccache, so this one is mostly hits.
    venv = make_venv(outside / "venv-checkout")
    # An isolated build, as a user's `pip install .`: pip fetches scikit-build-core from the
    # package index into a throwaway environment.
    index = run([venv / "bin/python", "-m", "pip", "download", "--no-deps", "--dest",
                 outside / "probe", "scikit-build-core>=0.10"], outside, check=False)
    if index.returncode != 0:
        pytest.skip("the package index is unreachable, and an isolated `pip install .` needs "
                    f"scikit-build-core from it: {index.stderr.strip()[-300:]}")
    run([venv / "bin/python", "-m", "pip", "install", REPO], cwd=outside, env=build_env(),
        timeout=BUILD_TIMEOUT)
    cwd = outside / "user-checkout"
    cwd.mkdir()
    check_installed(venv, cwd)


def test_an_application_embeds_the_installed_libpyhost(outside, wheel_venv):
    """libpyhost inside the installed package: examples/embed builds against its CMake package
    (site-packages/pyhost/_lib/cmake) and runs in both pool modes, its process workers being the
    package's own program."""
    python = wheel_venv / "bin/python"
    site = pathlib.Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            outside).stdout.strip())
    build = outside / "embed-build"
    run(["cmake", "-S", REPO / "examples/embed", "-B", build,
         f"-DCMAKE_PREFIX_PATH={site / 'pyhost/_lib/cmake'}"], outside, timeout=BUILD_TIMEOUT)
    run(["cmake", "--build", build], outside, env=build_env(), timeout=BUILD_TIMEOUT)
    expected = sum(i * i for i in range(1000000))
    for mode in ("subinterpreters", "processes"):
        out = run([build / "sum_of_squares", mode], outside).stdout
        assert out.startswith(f"sum of squares below 1000000 = {expected} (4 tasks, {mode}, 2 workers,"), out
