"""How a call goes to a worker that is not this interpreter: pickled, functions by reference
(those of the main script are found by running it in the worker under the name __mp_main__, as
multiprocessing does), except a plain function of the main script, which goes by value (its
code), so that a call that uses only its arguments and builtins runs without the script's
imports. Code run by `pyhost run -c` (or typed interactively) has no file a worker could load:
a function of it that cannot go by value is refused here, with a PicklingError that says so.

PickledCalls is the call codec of the workers that get pickles (sub-interpreters, processes,
other ranks); the executor asks its worker type for its codec and never pickles itself.
"""
import pickle
import sys
import types
import weakref
from functools import partial

from . import protocol, worker
from .errors import rebuild_error

_NEEDS_SCRIPT_NAMESPACE = frozenset(("globals", "locals", "vars", "eval", "exec"))
_CO_OPTIMIZED = 0x1  # a function's code (class bodies look names up another way)


def _main_attribute(qualname):
    """A function or class of the main script, by name (what the slow pickling path sends)."""
    obj = sys.modules["__main__"]
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class _MainByName(pickle.Pickler):
    """Pickles the main script's functions and classes by name even when sys.modules['__main__']
    is another task's module (pyhost's threads mode runs several scripts in one interpreter)."""

    def reducer_override(self, obj):
        if isinstance(obj, (types.FunctionType, type)) and "<" not in obj.__qualname__ \
                and getattr(obj, "__module__", None) in ("__main__", "__mp_main__"):
            return _main_attribute, (obj.__qualname__,)
        return NotImplemented


class ByValue:
    """Pickles as a call of worker.main_function: the function rebuilt from its code."""

    __slots__ = ("reduced",)

    def __init__(self, spec):
        self.reduced = (worker.main_function, spec)  # made once: it is sent with every call

    def __reduce__(self):
        return self.reduced


# Main-script function (a weak reference to it) -> (its ByValue, or None if it goes by reference;
# the reference whose callback drops the entry when the function goes). Weak: a task's functions
# (and, through them, its __main__ namespace) must go with the task, not live as long as the
# interpreter that runs task after task. Not a WeakKeyDictionary: the lookup is on every call's
# path, and this one is all C: the key is the function's plain weak reference, which
# weakref.ref(fn) returns again (no allocation) while the key holds it.
_sendable_cache = {}


def _forget(key, _):
    _sendable_cache.pop(key, None)


def sendable(fn):
    """fn, or a ByValue of it when it is a plain top-level function of the main script that
    behaves the same with globals loaded on demand: no closure, no attributes, no code that
    stores globals or looks at the namespace, no class body."""
    if type(fn) is not types.FunctionType or fn.__module__ != "__main__":
        return fn
    key = weakref.ref(fn)
    entry = _sendable_cache.get(key)
    if entry is not None:
        by_value = entry[0]
    else:
        by_value = None
        try:
            by_value = by_value_spec(fn)
        finally:
            _sendable_cache[key] = (by_value, weakref.ref(fn, partial(_forget, key)))
    if by_value is None and not main_script_file():
        # No script file for a worker to load it from (`pyhost run -c`, an interactive
        # session): said here, at every call, not as pickle's "Can't get attribute" from the
        # worker.
        raise pickle.PicklingError(
            f"{fn.__qualname__}() is defined in `-c` code (or interactively) and uses more than "
            "its arguments and the builtins, so a worker cannot rebuild it: define it in a "
            "script or module")
    return by_value or fn


def main_script_file():
    return getattr(sys.modules.get("__main__"), "__file__", None)


def by_value_spec(fn):
    """The ByValue of fn, or None when it must go by reference (see sendable)."""
    import builtins
    import marshal
    import opcode

    main = sys.modules.get("__main__")
    if fn.__qualname__ != fn.__name__ or fn.__closure__ is not None or fn.__dict__ \
            or fn.__code__.co_freevars or getattr(fn, "__type_params__", ()) \
            or main is None or getattr(main, "__dict__", {}).get(fn.__name__) is not fn:
        return None
    writes = {opcode.opmap["STORE_GLOBAL"], opcode.opmap["DELETE_GLOBAL"]}
    names = set()
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        if not code.co_flags & _CO_OPTIMIZED or writes.intersection(code.co_code[::2]):
            return None
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    if names & _NEEDS_SCRIPT_NAMESPACE:
        return None
    script_names = main.__dict__
    if not main_script_file() and any(n in script_names for n in names):
        return None  # `-c` code: no file to load the script's other names from
    builtin_names = tuple(sorted(n for n in names if n not in script_names and n in builtins.__dict__))
    return ByValue((fn.__name__, marshal.dumps(fn.__code__), fn.__defaults__, fn.__kwdefaults__,
                    builtin_names))


def dumps_call(fn, args, kwargs):
    """The pickled (fn, args, kwargs) a worker runs; PicklingError, saying what to do, when it
    cannot be pickled."""
    call = (sendable(fn), args, kwargs)
    try:
        return pickle.dumps(call, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError) as first_error:
        import io

        buffer = io.BytesIO()
        try:
            _MainByName(buffer, pickle.HIGHEST_PROTOCOL).dump((fn, args, kwargs))
            return buffer.getvalue()
        except Exception:
            name = getattr(fn, "__qualname__", repr(fn))
            raise pickle.PicklingError(
                f"cannot send the call of {name} to a worker: {first_error} (pyhost.Executor sends "
                "functions by reference: use a function defined at module level, not a lambda or "
                "a nested function, and picklable arguments)") from first_error


class PickledCalls:
    """The executor's side of the wire for workers that get pickles (protocol.py)."""

    @staticmethod
    def encode_call(fn, args, kwargs):
        return dumps_call(fn, args, kwargs)

    @staticmethod
    def chunk_function(fn):
        """What runs one map chunk: worker.run_chunk of fn (by value when fn can go so)."""
        return partial(worker.run_chunk, sendable(fn))

    @staticmethod
    def encode_batch(calls):
        return protocol.encode_calls(calls)

    @staticmethod
    def decode_results(data):
        return protocol.decode_results(data)

    @staticmethod
    def decode_value(value):
        try:
            return pickle.loads(value)
        except Exception as exc:  # noqa: BLE001
            error = pickle.UnpicklingError(f"the result of the call cannot be rebuilt here: {exc}")
            error.__cause__ = exc
            raise error from exc

    decode_error = staticmethod(rebuild_error)
