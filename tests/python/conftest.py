"""The tests of this folder run *inside* pyhost: `pyhost run -m pytest tests/python` (ctest's
python-inside-host). Collected by a plain python (`pytest tests/` from the repository root), each
module is reported skipped, with the command that runs it, and is not even imported: its imports
may need the host (the `_pyhost` module, pyhost's task context)."""
import sys

import pytest

INSIDE_PYHOST = "pyhost._host" in sys.modules
REASON = "runs inside pyhost, not a plain python: pyhost run -m pytest tests/python"


class _OutsidePyhost(pytest.Module):
    def collect(self):
        pytest.skip(REASON)


def pytest_pycollect_makemodule(module_path, parent):
    if not INSIDE_PYHOST:
        return _OutsidePyhost.from_parent(parent, path=module_path)
    return None
