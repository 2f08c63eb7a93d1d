"""I/O-bound on files: each task writes its own file in 1 MiB chunks, fsyncs it, and reads it back,
a few times over. CPython releases the GIL around every read(), write() and fsync() system call,
and here those calls are nearly all the time a task takes, so threads overlap them: threads win,
though less than with sleep, because the kernel copying the data uses a CPU too.

Usage: pyhost compare scripts/io_files.py [MIB] [PASSES]   (default 32 MiB, 3 passes a task).
"""
import os
import sys
import tempfile

import pyhost

CHUNK = 1 << 20


def main():
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    block = bytes([pyhost.task_id % 256]) * CHUNK
    total = 0
    with tempfile.TemporaryDirectory(prefix="pyhost-io-") as folder:
        path = os.path.join(folder, f"task-{pyhost.task_id}.bin")
        for _ in range(passes):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for _ in range(mib):
                    os.write(fd, block)
                os.fsync(fd)
            finally:
                os.close(fd)
            fd = os.open(path, os.O_RDONLY)
            try:
                while chunk := os.read(fd, CHUNK):
                    total += len(chunk)
            finally:
                os.close(fd)
    print(f"task {pyhost.task_id}: wrote and read back {total >> 20} MiB")


if __name__ == "__main__":
    main()
