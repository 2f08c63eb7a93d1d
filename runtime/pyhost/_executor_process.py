"""Entry point of a pyhost.Executor process worker: `pyhost run -m pyhost._executor_process FD FD`."""
import sys

if __name__ == "__main__":
    from pyhost import _executor_worker

    _executor_worker.serve_process(int(sys.argv[1]), int(sys.argv[2]))
