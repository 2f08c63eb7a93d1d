"""Where the `pyhost` program is, for Python code that drives it (`python -m pyhost`, the
Jupyter magics, `pyhost.run()` / `pyhost.compare()`) from a plain interpreter."""
import os
import pathlib
import shutil
import sys

_PACKAGE = pathlib.Path(__file__).resolve().parent


def candidates():
    """The places looked at, in order: $PYHOST_EXE; the program a `pip install` put beside this
    interpreter (the venv's bin/); the one inside the installed package; a checkout's build/pyhost
    (this package is then <checkout>/runtime/pyhost); the first `pyhost` on PATH."""
    env = os.environ.get("PYHOST_EXE")
    if env:
        yield pathlib.Path(env)
        return
    yield pathlib.Path(sys.prefix) / "bin" / "pyhost"
    yield _PACKAGE / "_bin" / "pyhost"
    yield _PACKAGE.parent.parent / "build" / "pyhost"
    found = shutil.which("pyhost")
    if found:
        yield pathlib.Path(found)


def executable():
    """The path of the `pyhost` program; FileNotFoundError naming every place looked at."""
    looked = []
    for path in candidates():
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        looked.append(str(path))
    raise FileNotFoundError(
        "no pyhost program found (looked at " + ", ".join(looked) + "; `pip install` pyhost "
        "into this environment, build a checkout with `bash .ci/setup`, or set PYHOST_EXE)")
