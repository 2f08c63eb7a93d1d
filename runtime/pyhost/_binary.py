"""Where the `pyhost` program is, for Python code that drives it (`python -m pyhost`, the
Jupyter magics, `pyhost.run()` / `pyhost.compare()`) from a plain interpreter."""
import os
import pathlib
import shutil
import sys

_PACKAGE = pathlib.Path(__file__).resolve().parent


def candidates():
    """The places looked at, in order: $PYHOST_EXE; the program inside the installed package
    (pyhost/_bin/pyhost, put there by `pip install`); a checkout's build/pyhost (this package is
    then <checkout>/runtime/pyhost); a `pyhost` beside this interpreter (a prefix's bin/); the
    first `pyhost` on PATH."""
    env = os.environ.get("PYHOST_EXE")
    if env:
        yield pathlib.Path(env)
        return
    yield _PACKAGE / "_bin" / "pyhost"
    yield _PACKAGE.parent.parent / "build" / "pyhost"
    yield pathlib.Path(sys.prefix) / "bin" / "pyhost"
    found = shutil.which("pyhost")
    if found:
        yield pathlib.Path(found)


def _is_program(path):
    """An executable ELF file: not the `pyhost` console script of a venv's bin/ (a Python
    script that itself runs the program), which would run this lookup again."""
    try:
        with open(path, "rb") as file:
            return file.read(4) == b"\x7fELF" and os.access(path, os.X_OK)
    except OSError:
        return False


def executable():
    """The path of the `pyhost` program; FileNotFoundError naming every place looked at."""
    looked = []
    chosen = os.environ.get("PYHOST_EXE")
    for path in candidates():
        # $PYHOST_EXE is taken as it is (a wrapper script is fine there).
        if (chosen and path.is_file() and os.access(path, os.X_OK)) or _is_program(path):
            return str(path)
        looked.append(str(path))
    raise FileNotFoundError(
        "no pyhost program found (looked at " + ", ".join(looked) + "; `pip install` pyhost "
        "into this environment, build a checkout with `bash .ci/setup`, or set PYHOST_EXE)")
