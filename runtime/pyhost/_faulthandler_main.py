"""The main interpreter's end of the faulthandler stand-in of sub-interpreters (_faulthandler.py).

CPython's faulthandler cannot be imported in an own-GIL sub-interpreter, but the handler it
installs is the process's anyway (signal handlers), and the main interpreter owns it. The
stand-in reaches it through _pyhost.faulthandler_in_main(name, *ints), which runs call() here,
in the main interpreter, with the id of the calling interpreter.

Each interpreter sees its own state, as if it had the module to itself: the process's fatal-error
handler is on while some interpreter has it enabled, writing to the file of the latest enable()
still in force; it is off (or back to the main interpreter's own setting) when the last one
disables it. Descriptors are duplicated and owned here: a task that closes its own after
disable() never leaves the handler writing to a number the process has reused.
"""
import faulthandler
import os
import threading

_lock = threading.Lock()  # the free-threaded build has no GIL to order the calls
_enabled = {}  # interpreter id -> (fd, all_threads), oldest first
_registered = {}  # signal number -> (interpreter id, fd)
_main_had_it = False  # the main interpreter's own handler was on before the first enable()


def _enable(interp, fd, all_threads):
    global _main_had_it
    own = os.dup(fd)
    try:
        if not _enabled:
            _main_had_it = faulthandler.is_enabled()
        faulthandler.enable(file=own, all_threads=bool(all_threads))
    except BaseException:
        os.close(own)
        raise
    previous = _enabled.pop(interp, None)
    _enabled[interp] = (own, bool(all_threads))
    if previous is not None:
        os.close(previous[0])


def _disable(interp):
    entry = _enabled.pop(interp, None)
    if entry is None:
        return False
    if _enabled:
        fd, all_threads = list(_enabled.values())[-1]
        faulthandler.enable(file=fd, all_threads=all_threads)
    else:
        faulthandler.disable()
        if _main_had_it:
            faulthandler.enable()  # to the main interpreter's sys.stderr: its file is not known
    os.close(entry[0])
    return True


def _is_enabled(interp):
    return interp in _enabled


def _register(interp, signum, fd, all_threads, chain):
    own = os.dup(fd)
    try:
        faulthandler.register(signum, file=own, all_threads=bool(all_threads), chain=bool(chain))
    except BaseException:
        os.close(own)
        raise
    previous = _registered.pop(signum, None)
    _registered[signum] = (interp, own)
    if previous is not None:
        os.close(previous[1])


def _unregister(interp, signum):
    entry = _registered.get(signum)
    if entry is None or entry[0] != interp:
        return False
    del _registered[signum]
    done = faulthandler.unregister(signum)
    os.close(entry[1])
    return done


def _forget(interp):
    """The interpreter's task ended (or the interpreter does): as at a python process's exit,
    its handler and its registered signals go."""
    _disable(interp)
    for signum in [s for s, (owner, _) in _registered.items() if owner == interp]:
        _unregister(interp, signum)


_CALLS = {"enable": _enable, "disable": _disable, "is_enabled": _is_enabled,
          "register": _register, "unregister": _unregister, "forget": _forget}


def call(interp, name, *args):
    function = _CALLS.get(name)
    if function is None:
        raise ValueError(f"no faulthandler call {name!r}")
    with _lock:
        return function(interp, *args)
