"""An executor made by the main script's top level outside `if __name__ == "__main__":` is
refused in the script itself (runtime/pyhost/_executor/main_guard.py): a worker that runs the
script to find a function would make it again."""
import sys
import textwrap
import types

import pytest

from pyhost._executor import main_guard


def run_script(tmp_path, monkeypatch, source):
    """Runs source as the main script; its make() stands for pyhost.Executor()."""
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(source))
    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    module.make = lambda: main_guard.refuse_unguarded_creation(module, depth=1)
    monkeypatch.setitem(sys.modules, "__main__", module)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def test_made_by_the_unguarded_top_level_is_refused(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match=r"created by the main script's top level outside "
                                           r"`if __name__ == \"__main__\":`"):
        run_script(tmp_path, monkeypatch, "x = 1\nmake()\n")


def test_made_by_a_function_the_unguarded_top_level_calls_is_refused(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="outside `if __name__"):
        run_script(tmp_path, monkeypatch, "def setup():\n    make()\n\nsetup()\n")


@pytest.mark.parametrize("source", [
    'if __name__ == "__main__":\n    make()\n',
    'if __name__ == "__main__":\n    for i in range(2):\n        with open(__file__):\n            make()\n',
    'def main():\n    make()\n\nif "__main__" == __name__:\n    main()\n',
    'import sys\nif __name__ != "__mp_main__" and sys:\n    try:\n        make()\n    finally:\n        pass\n',
    'def never():\n    make()\n',
])
def test_guarded_or_not_at_top_level_is_fine(tmp_path, monkeypatch, source):
    run_script(tmp_path, monkeypatch, source)


def test_no_script_file_no_check(monkeypatch):
    module = types.ModuleType("__main__")  # `-c` code
    exec("main_guard.refuse_unguarded_creation(module, depth=1)",
         {"main_guard": main_guard, "module": module, "__name__": "__main__"})


def test_the_verdict_is_kept_per_line(tmp_path, monkeypatch):
    run_script(tmp_path, monkeypatch, 'if __name__ == "__main__":\n    make()\n')
    assert main_guard._guarded_lines[(str(tmp_path / "script.py"), 2)] is True
