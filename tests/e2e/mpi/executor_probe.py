"""pyhost.Executor(mode="mpi") checks, run by tests/e2e/test_executor_mpi.py as
`mpirun -n 3 pyhost run --engine mpi executor_probe.py CHECK [LOCAL]`: rank 0 runs this script,
ranks 1 and 2 serve its calls. Each check prints lines the test compares exactly."""
import os
import sys

import pyhost

CHECK = sys.argv[1]
LOCAL = sys.argv[2] if len(sys.argv) > 2 else "subinterpreters"


def where(_):
    return pyhost.rank


def fail(x):
    raise ValueError(f"bad {x}")


def crash(how):
    if how == "exit":
        os._exit(7)
    if how == "segfault":
        import ctypes

        ctypes.string_at(0)
    return how


def square(x):
    return x * x


def wait_closed(channel):
    for _ in channel:
        pass
    return "closed"


def produce(items, progress, count):
    for i in range(count):
        progress.put(i)
        items.put(i)
    return pyhost.rank


def say(x):
    print(f"output {x} from a worker")
    return x


def consume(items):
    return sum(items), pyhost.rank


if __name__ == "__main__":
    with pyhost.Executor("mpi", workers=2, local=LOCAL) as ex:
        if CHECK == "ranks":
            print("workers:", ex.workers)
            print("ranks:", sorted(set(ex.map(where, range(200), chunksize=1))))
            print("rank 0 runs main:", pyhost.rank == 0)
        elif CHECK == "error":
            try:
                ex.submit(fail, 7).result()
            except ValueError as exc:
                print(type(exc).__name__, exc)
                tb = exc.remote_traceback
                print("traceback names the function:", "in fail" in tb and 'raise ValueError(f"bad {x}")' in tb)
            print("executor still works:", ex.submit(square, 9).result())
        elif CHECK == "crash":
            futures = [ex.submit(crash, how) for how in ("fine", "exit", "fine", "segfault", "fine")]
            for future in futures:
                try:
                    print("ok", future.result())
                except pyhost.WorkerCrashed as exc:
                    print("crashed", exc.exitcode, exc.signal, "of rank" in str(exc))
            print("after:", list(ex.map(square, range(6))))
        elif CHECK == "map":
            print(list(ex.map(square, range(20), chunksize=3)))
            print(list(ex.map(square, range(20), chunksize=1)))
            print(sum(ex.map(square, range(10000))))
            try:
                list(ex.map(fail, [1, 2], chunksize=1))
            except ValueError as exc:
                print("map raises", exc)
            gate = pyhost.Channel()
            late = ex.map(wait_closed, [gate], timeout=0.2)
            try:
                list(late)
            except TimeoutError:
                print("map timed out")
            gate.close()
        elif CHECK == "output":
            for i in range(10):
                print("result", ex.submit(say, i).result())
        elif CHECK == "channel":
            items, progress = pyhost.Channel(maxsize=2), pyhost.Channel()
            producer = ex.submit(produce, items, progress, 10)
            seen = [progress.get() for _ in range(3)]  # it has put 0 and 1 and now puts 2
            print("progress", seen, "full:", items.full(), "qsize:", items.qsize())
            print("producer blocked:", not producer.done())
            print("items", [items.get() for _ in range(10)])
            print("producer ran on a remote rank:", producer.result() in (1, 2))
            # Producer and consumer both remote, the channel on rank 0 between them.
            pipe = pyhost.Channel(maxsize=1)
            consumer = ex.submit(consume, pipe)
            producer = ex.submit(produce, pipe, pyhost.Channel(), 50)
            producer.result()
            pipe.close()
            total, rank = consumer.result()
            print("consumed", total, "on a remote rank:", rank in (1, 2))
