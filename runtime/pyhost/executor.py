"""pyhost.Executor: a concurrent.futures.Executor whose workers are own-GIL sub-interpreters of
this process, crash-isolated processes, threads, or the workers of other MPI ranks.

The public face of the pyhost._executor package (what each of its modules does is said in its
__init__)."""
from ._executor.errors import RemoteError, WorkerCrashed
from ._executor.executor import MODES, Executor

__all__ = ["Executor", "WorkerCrashed", "RemoteError", "MODES"]
