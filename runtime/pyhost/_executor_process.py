"""Entry point of a pyhost.Executor process worker: `pyhost run -m pyhost._executor_process TASK_FD RPC_FD PROGRESS_FD`."""
import sys

if __name__ == "__main__":
    from pyhost import _executor_worker

    _executor_worker.serve_process(*(int(fd) for fd in sys.argv[1:4]))
