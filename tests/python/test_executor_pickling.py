"""What goes to a worker by value and what by reference, the `-c` PicklingError, and the cache
of those verdicts, which must not keep a task's functions alive (runtime/pyhost/_executor/
pickling.py). The main script is a module made here and put in sys.modules["__main__"]."""
import gc
import pickle
import sys
import sysconfig
import textwrap
import types
import weakref

import pytest

from pyhost._executor import pickling, worker

SCRIPT = """
import os

LIMIT = 10

def plain(x, y=2, *, z=3):
    return [abs(x), y, z, len(str(x))]

def uses_a_global(x):
    return min(x, LIMIT)

def uses_a_module():
    return os.sep

def writes_a_global():
    global LIMIT
    LIMIT = 0

def looks_at_globals():
    return globals()

def with_a_comprehension(n):
    return [i * i for i in range(n)]

def outer():
    def inner():
        return 1
    return inner

def with_closure():
    value = 1
    def inner():
        return value
    return inner

class Holder:
    def method(self):
        return 1

def with_an_attribute():
    return 1

with_an_attribute.tag = "x"
"""


@pytest.fixture
def main(monkeypatch, tmp_path):
    """Makes a main script module (with a file, or as `-c` code with none=True) and installs it."""

    def make(source=SCRIPT, none=False):
        module = types.ModuleType("__main__")
        if not none:
            path = tmp_path / "script.py"
            path.write_text(textwrap.dedent(source))
            module.__file__ = str(path)
        exec(compile(textwrap.dedent(source), module.__dict__.get("__file__", "<string>"), "exec"),
             module.__dict__)
        monkeypatch.setitem(sys.modules, "__main__", module)
        return module

    return make


def test_a_plain_function_of_the_main_script_goes_by_value(main):
    script = main()
    for name in ("plain", "uses_a_global", "uses_a_module", "with_a_comprehension", "outer"):
        sent = pickling.sendable(getattr(script, name))
        assert type(sent) is pickling.ByValue, name
        function, spec = sent.__reduce__()
        assert function is worker.main_function and spec[0] == name
    builtins_named = pickling.sendable(script.plain).__reduce__()[1][4]
    assert builtins_named == ("abs", "len", "str")  # what a worker copies in without the script


@pytest.mark.parametrize("name", ["writes_a_global", "looks_at_globals", "with_closure",
                                  "with_an_attribute", "Holder"])
def test_what_needs_the_script_itself_goes_by_reference(main, name):
    script = main()
    obj = getattr(script, name)
    if name == "with_closure":
        obj = obj()
    assert pickling.sendable(obj) is obj
    assert pickling.sendable(script.Holder().method) is not None  # a bound method: by reference


def test_other_callables_are_left_alone(main):
    main()
    for obj in (len, pickle.dumps, print, test_other_callables_are_left_alone, sum):
        assert pickling.sendable(obj) is obj


def test_a_function_sent_by_value_is_rebuilt_from_its_code(main, monkeypatch):
    script = main()
    monkeypatch.setattr(worker, "_main", None)  # as in a worker that has not loaded the script
    monkeypatch.setattr(worker, "_lazy_globals", None)
    monkeypatch.setattr(worker, "_by_value", {})
    data = pickle.dumps((pickling.sendable(script.plain), (-42,), {"z": 5}))
    fn, args, kwargs = pickle.loads(data)
    assert fn is not script.plain and fn.__name__ == "plain"
    assert fn(*args, **kwargs) == [42, 2, 5, 3]
    assert pickle.loads(data)[0] is fn  # made once per worker
    square = pickle.loads(pickle.dumps(pickling.sendable(script.with_a_comprehension)))
    assert square(4) == [0, 1, 4, 9]


def test_dash_c_code_that_needs_the_script_is_refused_at_every_call(main):
    script = main(none=True)
    assert type(pickling.sendable(script.plain)) is pickling.ByValue  # builtins only: fine
    for _ in range(2):  # the cached verdict says so again
        with pytest.raises(pickle.PicklingError, match=r"uses_a_global\(\) is defined in `-c` code "
                                                       r"\(or interactively\) and uses more than its "
                                                       r"arguments and the builtins"):
            pickling.sendable(script.uses_a_global)
    with pytest.raises(pickle.PicklingError, match="define it in a script or module"):
        pickling.dumps_call(script.writes_a_global, (), {})


def test_a_call_that_cannot_be_pickled_says_what_to_do(main):
    main()
    with pytest.raises(pickle.PicklingError) as caught:
        pickling.dumps_call(lambda: 1, (), {})
    message = str(caught.value)
    assert message.startswith("cannot send the call of "
                              "test_a_call_that_cannot_be_pickled_says_what_to_do.<locals>.<lambda>")
    assert "use a function defined at module level, not a lambda or a nested function" in message
    with pytest.raises(pickle.PicklingError, match="and picklable arguments"):
        pickling.dumps_call(len, (iter([]).__class__,), {"x": (i for i in ())})


def test_a_function_of_another_tasks_main_goes_by_name(main, monkeypatch):
    """Threads mode runs several scripts in one interpreter: sys.modules['__main__'] may be
    another task's module; the function still pickles, by name, for the worker to find."""
    mine = main()
    other = types.ModuleType("__main__")
    other.__file__ = mine.__file__
    monkeypatch.setitem(sys.modules, "__main__", other)
    data = pickling.dumps_call(mine.with_closure, (), {})
    monkeypatch.setitem(sys.modules, "__main__", mine)
    fn, args, kwargs = pickle.loads(data)
    assert fn is mine.with_closure


def test_the_verdict_cache_does_not_keep_a_tasks_functions_alive(main):
    """Defect 7: the cache was a dict keyed by function, so every task of a multi-task run left
    its __main__ functions (and through their globals, its whole namespace) alive."""
    gc.collect()  # what earlier tests left goes first
    before = len(pickling._sendable_cache)
    script = main()
    verdicts = [pickling.sendable(script.plain), pickling.sendable(script.writes_a_global)]
    assert len(pickling._sendable_cache) == before + 2
    function = weakref.ref(script.plain)
    namespace = weakref.ref(script)
    del script, verdicts
    sys.modules.pop("__main__")  # the task ended: its main module goes (the fixture restores one)
    for _ in range(3):
        gc.collect()
    alive = function()
    if alive is not None and sysconfig.get_config_var("Py_GIL_DISABLED"):
        # Free-threaded 3.13 defers the reference counts of functions, and may keep one with no
        # referrer left: then what matters is that nothing of the cache holds it.
        cache_parts = {id(pickling._sendable_cache), *map(id, pickling._sendable_cache.values())}
        assert not [r for r in gc.get_referrers(alive) if id(r) in cache_parts]
        return
    assert alive is None, gc.get_referrers(alive)
    del alive
    assert namespace() is None
    assert len(pickling._sendable_cache) == before


def test_the_verdict_is_cached(main, monkeypatch):
    script = main()
    first = pickling.sendable(script.plain)
    monkeypatch.setattr(pickling, "by_value_spec", lambda fn: pytest.fail("asked again"))
    assert pickling.sendable(script.plain) is first


def test_pickled_calls_codec(main):
    main()
    codec = pickling.PickledCalls
    payload = codec.encode_call(divmod, (7, 2), {})
    assert pickle.loads(payload) == (divmod, (7, 2), {})
    chunk = pickle.loads(pickle.dumps(codec.chunk_function(divmod)))
    assert chunk([(7, 2), (9, 4)]) == [(3, 1), (2, 1)]
    assert codec.decode_value(pickle.dumps([1, "a"])) == [1, "a"]
    with pytest.raises(pickle.UnpicklingError, match="the result of the call cannot be rebuilt here"):
        codec.decode_value(b"junk")
