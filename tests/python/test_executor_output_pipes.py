"""The executor's end of a process worker's output pipes (runtime/pyhost/_executor/output.py):
only the forwarder thread closes a pipe's fd, after it has stopped polling it. A reader's flush
that saw the end of the pipe used to close it under the forwarder's poll; the number was then
reused by the next socket or pipe the process made, and the forwarder waited on that for ever
(a serving MPI rank hung at exit, joining it)."""
import os
import threading

from pyhost._executor import output


class Lines:
    def __init__(self):
        self.got = []
        self.lock = threading.Lock()

    def write(self, stream_no, text):
        with self.lock:
            self.got.append((stream_no, text))


def test_a_flush_that_sees_the_end_leaves_the_close_to_the_forwarder():
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    lines = Lines()
    pipes = [output.OutputPipe(out_r, 1, lines), output.OutputPipe(err_r, 2, lines)]
    forwarder = output.OutputForwarder(0, pipes)
    os.write(out_w, b"one\ntwo")
    os.close(out_w)
    os.close(err_w)
    forwarder.flush()  # as a reader does before it delivers results: sees both ends
    assert all(pipe.ended for pipe in pipes)
    forwarder.thread.join(10)
    assert not forwarder.thread.is_alive()
    # The forwarder closed both, once: a new pipe may now take the numbers and is left alone.
    for fd in (out_r, err_r):
        try:
            os.fstat(fd)
            still_open = True
        except OSError:
            still_open = False
        assert not still_open, fd
    # Whole lines, all of them, on stdout; the forwarder may have read "one\ntwo" before the
    # close (then "one\n" and, at the end, "two\n") or after it (one write): both are right.
    assert {stream for stream, _ in lines.got} == {1}, lines.got
    assert all(text.endswith("\n") for _, text in lines.got), lines.got
    assert "".join(text for _, text in lines.got) == "one\ntwo\n", lines.got


def test_the_fd_stays_open_until_the_forwarder_unregisters_it():
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    lines = Lines()
    pipes = [output.OutputPipe(out_r, 1, lines), output.OutputPipe(err_r, 2, lines)]
    os.close(out_w)
    for pipe in pipes:  # the end seen before any forwarder polls: nothing is closed yet
        pipe.pump()
    os.fstat(out_r)  # raises if the flush had closed it
    forwarder = output.OutputForwarder(0, pipes)
    os.close(err_w)
    forwarder.thread.join(10)
    assert not forwarder.thread.is_alive()
