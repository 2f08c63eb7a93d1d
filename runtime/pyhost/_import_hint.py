"""The hint pyhost adds to an ImportError that an own-GIL sub-interpreter caused: which module
CPython refused and which package the script imported to get there, and the modes that can run it.

CPython refuses an extension module that does not declare support for per-interpreter GILs with
"module NAME does not support loading in subinterpreters". Packages often catch that error and
raise their own (numpy: "Importing the numpy C-extensions failed. ... Original error was: module
numpy._core._multiarray_umath does not support ..."), so the name is looked for in the message of
every ImportError of the __cause__ / __context__ chain.
"""
import re

_REFUSED = re.compile(r"module ([\w.]+) does not support loading in subinterpreters")


def refused_module(exc):
    """The module CPython refused to load in this sub-interpreter, or None if that is not why
    `exc` was raised."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ImportError):
            found = _REFUSED.search(str(exc))
            if found:
                return found.group(1)
        exc = exc.__cause__ or exc.__context__
    return None


def _frames(tb):
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _in_import_machinery(frame):
    return frame.f_code.co_filename.startswith("<frozen importlib")


def imported_package(tb, module):
    """The top-level package whose import by the script's own code (its __main__) led to
    `module`: the module whose body a frame of __main__ called (CPython leaves the import
    machinery's frames out of an ImportError's traceback; they are skipped if there). Without
    one (the import happened inside a library), the top-level package of `module` itself."""
    frames = [frame for frame in _frames(tb) if not _in_import_machinery(frame)]
    for caller, callee in zip(frames, frames[1:]):
        name = callee.f_globals.get("__name__")
        if (caller.f_globals.get("__name__") == "__main__" and name != "__main__"
                and callee.f_code.co_name == "<module>" and isinstance(name, str) and name):
            return name.partition(".")[0]
    return module.partition(".")[0]


def hint(exc, tb):
    """The line pyhost prints after the traceback of `exc`, or None when it was not an own-GIL
    sub-interpreter's refusal."""
    module = refused_module(exc)
    if module is None:
        return None
    way_out = "run this script with --mode processes or --mode threads."
    package = imported_package(tb, module)
    if package == module:
        return (f"pyhost: module '{module}' cannot be imported in an own-GIL sub-interpreter (it "
                f"does not support them); {way_out}")
    return (f"pyhost: '{package}' cannot be imported in an own-GIL sub-interpreter: module "
            f"'{module}', which it imports, does not support them; {way_out}")
