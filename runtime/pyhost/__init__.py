"""pyhost: what scripts run by pyhost can use.

`pyhost.task_id`, `worker_id`, `mode`, `workers`, `tasks` describe the task running now. Under
plain python (not run by pyhost) they describe a serial run of one task. `rank`, `ranks` and
`host` say where it runs in a `--engine mpi` run (0, 1 and this machine's name without MPI).

From any interpreter (a notebook, plain python), `pyhost.compare()`, `pyhost.run()` and
`pyhost.info()` drive the `pyhost` program, and `%load_ext pyhost` adds the %pyhost magics.
"""
import sys

__all__ = ["task_id", "worker_id", "mode", "workers", "tasks", "rank", "ranks", "host", "Executor",
           "WorkerCrashed", "RemoteError", "Channel", "ChannelClosed", "compare", "run", "info",
           "PyhostError", "CompareResult", "RunResult"]

_TASK_ATTRS = ("task_id", "worker_id")
# Loaded on first use, so that `import pyhost` stays cheap for scripts that do not use them.
_LAZY = {"Executor": "executor", "WorkerCrashed": "executor", "RemoteError": "executor",
         "Channel": "channel", "ChannelClosed": "channel",
         "compare": "_api", "run": "_api", "info": "_api", "PyhostError": "_driver",
         "CompareResult": "_results", "RunResult": "_results"}
_RUN_ATTRS = ("mode", "workers", "tasks")
# Set by the host for the ranks of `--engine mpi` (host/mpi/mpi_run.cpp).
_MPI_ATTRS = ("rank", "ranks", "host")


def _host_runtime():
    # Only present when the host runs this interpreter: plain python never imports it.
    return sys.modules.get("pyhost._host")


def __getattr__(name):
    if name in _TASK_ATTRS:
        host = _host_runtime()
        task = host.current_task() if host is not None else None
        return getattr(task, name) if task is not None else 0
    if name in _RUN_ATTRS:
        host = _host_runtime()
        if host is not None:
            return host.settings[name]
        return {"mode": "serial", "workers": 1, "tasks": 1}[name]
    if name in _MPI_ATTRS:
        import os

        if name == "host":
            import socket

            return os.environ.get("PYHOST_HOST") or socket.gethostname()
        return int(os.environ.get("PYHOST_" + name.upper(), "0" if name == "rank" else "1"))
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        from . import _kernels  # light: the translator loads only when kernel/func are used

        if name in _kernels.PUBLIC_NAMES:
            value = getattr(_kernels, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module 'pyhost' has no attribute {name!r}")


def load_ipython_extension(ipython):
    """`%load_ext pyhost`: the %pyhost and %%pyhost magics (docs/jupyter.md). IPython is imported
    only here."""
    from . import _magics

    _magics.register(ipython)


def __dir__():
    return sorted(set(globals()) | set(_TASK_ATTRS) | set(_RUN_ATTRS) | set(_MPI_ATTRS) | set(_LAZY))
