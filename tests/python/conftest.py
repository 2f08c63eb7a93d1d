"""The tests of this folder run *inside* pyhost: `pyhost run -m pytest tests/python` (ctest's
python-inside-host). Collected by a plain python (`pytest tests/` from the repository root), a
module is not even imported (its imports may need the host: `_pyhost`, pyhost's task context):
it stands as one test, reported skipped with the command that runs it."""
import sys

import pytest

INSIDE_PYHOST = "pyhost._host" in sys.modules
REASON = "runs inside pyhost, not a plain python: pyhost run -m pytest tests/python"


class _SkippedOutsidePyhost(pytest.Item):
    def runtest(self):
        pytest.skip(REASON)

    def reportinfo(self):
        return self.path, None, f"{self.path.name} (inside pyhost only)"


class _OutsidePyhost(pytest.Module):
    def collect(self):
        return [_SkippedOutsidePyhost.from_parent(self, name="inside_pyhost_only")]


def pytest_pycollect_makemodule(module_path, parent):
    if not INSIDE_PYHOST:
        return _OutsidePyhost.from_parent(parent, path=module_path)
    return None
