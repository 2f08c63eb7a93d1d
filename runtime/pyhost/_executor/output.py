"""Where the output of an executor's process workers goes: their stdout and stderr are pipes
this process reads, line by line, and writes as the output of the task that made the executor."""
import os
import sys
import threading


class TaskOutput:
    """Where the output of an executor's process workers goes: the stdout/stderr of the task that
    created the executor (under pyhost with several tasks: that task's "[task k]" lines and its
    --json record), whichever thread forwards it."""

    def __init__(self):
        self._streams = {1: sys.stdout, 2: sys.stderr}
        self._task = None
        host = sys.modules.get("pyhost._host")
        if host is not None:
            self._task = host.current_task()

    def write(self, stream_no, text):
        stream = self._streams[stream_no]
        if stream is None:
            return
        streams = sys.modules.get("pyhost._streams")
        if self._task is not None and streams is not None and isinstance(stream, streams.TaskStream):
            import _pyhost

            _pyhost.write(self._task.task_id, stream_no, text)
            return
        stream.write(text)
        stream.flush()


class OutputPipe:
    """The executor's end of a process worker's stdout or stderr: whole lines go to the task."""

    def __init__(self, fd, stream_no, output):
        os.set_blocking(fd, False)
        self.fd = fd
        self.stream_no = stream_no
        self.output = output
        self.partial = b""
        self.lock = threading.Lock()
        self.ended = False

    def pump(self):
        """Forwards what the pipe holds now, complete lines only (the rest waits for its end of
        line, or for the end of the pipe). False once the pipe has ended."""
        with self.lock:  # the forwarder and a reader about to deliver results both pump
            if self.ended:
                return False
            chunks = [self.partial]
            while True:
                try:
                    data = os.read(self.fd, 65536)
                except BlockingIOError:
                    break
                except InterruptedError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.ended = True
                    break
                chunks.append(data)
            data = b"".join(chunks)
            if self.ended and data and not data.endswith(b"\n"):
                data += b"\n"
            cut = data.rfind(b"\n") + 1
            self.partial = data[cut:]
            try:
                if cut:
                    self.output.write(self.stream_no, data[:cut].decode("utf-8", "surrogateescape"))
            except BrokenPipeError:
                # Nobody reads the task's stream any more: closing the pipe makes the worker's
                # writes fail too, as they would in the task itself.
                self.ended = True
            except Exception:  # noqa: BLE001 - the task's stream is unusable: drop the output
                pass
            # Ended, the fd stays open until the forwarder has stopped polling it (close()): a
            # reader's flush that closed it under the forwarder's poll let the number be reused
            # (a socket made a moment later) and the forwarder wait on that for ever.
            return not self.ended

    def close(self):
        os.close(self.fd)


class OutputForwarder:
    """A thread that moves a process worker's stdout and stderr to the task as they come."""

    def __init__(self, index, pipes):
        self.pipes = pipes
        self.thread = threading.Thread(target=self._run, name=f"pyhost-executor-output-{index}")
        self.thread._pyhost_internal = True
        self.thread.start()

    def _run(self):
        import select

        poller = select.poll()
        by_fd = {pipe.fd: pipe for pipe in self.pipes}
        for fd in by_fd:
            poller.register(fd, select.POLLIN)
        while by_fd:
            for fd, _ in poller.poll():
                pipe = by_fd.get(fd)
                if pipe is not None and not pipe.pump():
                    poller.unregister(fd)
                    del by_fd[fd]
                    pipe.close()

    def flush(self):
        """Forwards everything already written (the worker flushes before it sends results)."""
        for pipe in self.pipes:
            pipe.pump()

    def join(self):
        # A process the worker started may hold the pipes open after the worker is gone: its
        # output still goes to the task as long as it lasts, without holding up the executor.
        self.thread.join(5.0)


