"""Driving the `pyhost` program from a plain interpreter: its command line, a child process whose
output is read as it comes, and the error a failed run raises. Used by `pyhost.compare()`,
`pyhost.run()` and the Jupyter magics (docs/jupyter.md)."""
import contextlib
import os
import pathlib
import selectors
import signal
import subprocess
import sys
import tempfile

from . import _binary

# Options that take one comma-separated list (`pyhost compare --modes serial,threads -j 1,2`);
# a list for any other option repeats it (`--sandbox-read A --sandbox-read B`).
COMMA_LISTS = ("modes", "workers")


class PyhostError(RuntimeError):
    """`pyhost` exited with a non-zero status. `returncode` is that status (docs/cli.md, "Exit
    codes"), `stderr` what it wrote there, `argv` the command line, and `result` the results it
    wrote before failing (a RunResult when `pyhost run` wrote its --json; else None)."""

    def __init__(self, argv, returncode, stderr, result=None):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.result = result
        command = self.argv[1] if len(self.argv) > 1 else ""
        tail = "\n".join(stderr.strip().splitlines()[-20:])
        super().__init__(f"pyhost {command} exited with status {returncode}"
                         + (f":\n{tail}" if tail else " (nothing on stderr)"))


def option_words(options):
    """CLI words for keyword options: `repeat=3` -> `--repeat 3`, `kill_after=1` ->
    `--kill-after 1`, `fresh_workers=True` -> `--fresh-workers`; None and False leave an option
    out; `modes=["serial", "threads"]` -> `--modes serial,threads` (see COMMA_LISTS)."""
    words = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            words.append(flag)
        elif isinstance(value, (list, tuple)):
            if key in COMMA_LISTS:
                words += [flag, ",".join(map(_word, value))]
            else:
                for item in value:
                    words += [flag, _word(item)]
        else:
            words += [flag, _word(value)]
    return words


def _word(value):
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def given_option(words, flag):
    """The value of `flag` in words (`--json F` or `--json=F`), or None."""
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word[len(flag) + 1:]
    return None


@contextlib.contextmanager
def script_file(script_or_code):
    """(path, environment) to run: the file itself for a path (a PathLike, or a one-line str
    naming a file) in this process's environment; else the code written to a temporary
    `cell.py` (removed afterwards), with the current directory on its PYTHONPATH: the code
    imports modules from there, as with `python -c`, although its own folder is a temporary one."""
    if isinstance(script_or_code, os.PathLike) or (
            isinstance(script_or_code, str) and "\n" not in script_or_code
            and (script_or_code.endswith(".py") or os.path.isfile(script_or_code))):
        path = pathlib.Path(script_or_code)
        if not path.is_file():
            raise FileNotFoundError(f"no script {str(path)!r} (pass a path or the code itself)")
        yield str(path), None
        return
    if not isinstance(script_or_code, str):
        raise TypeError(f"a script path or code is needed, not {type(script_or_code).__name__}")
    env = dict(os.environ)
    paths = [os.getcwd()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    with tempfile.TemporaryDirectory(prefix="pyhost-cell-") as folder:
        path = pathlib.Path(folder) / "cell.py"
        path.write_text(script_or_code, encoding="utf-8")
        yield str(path), env


def _write(stream, text):
    stream.write(text)
    stream.flush()


class _Lines:
    """One of the child's pipes: bytes in, whole lines out (kept, and echoed when streaming)."""

    def __init__(self, echo):
        self.echo = echo
        self.kept = []
        self.pending = b""

    def take(self, data, stream):
        if data:
            *lines, self.pending = (self.pending + data).split(b"\n")
            text = "".join(line.decode("utf-8", "replace") + "\n" for line in lines)
        else:  # end of file: what is left, without a newline it never had
            text, self.pending = self.pending.decode("utf-8", "replace"), b""
        if text:
            self.kept.append(text)
            if stream:
                _write(self.echo, text)

    def text(self):
        return "".join(self.kept)


def execute(argv, *, stream=False, env=None):
    """Run argv; return (returncode, stdout, stderr). With stream, each line is printed to
    sys.stdout / sys.stderr as it comes (a notebook shows a run's output as it goes). Ctrl-C (a
    kernel interrupt) reaches pyhost as SIGINT, which stops its run (exit 130), then re-raises."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    out, err = _Lines(sys.stdout), _Lines(sys.stderr)
    pipes = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    try:
        with selectors.DefaultSelector() as selector:
            for fd in pipes:
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                for key, _ in selector.select():
                    data = os.read(key.fd, 65536)
                    pipes[key.fd].take(data, stream)
                    if not data:
                        selector.unregister(key.fd)
        proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()
    return proc.returncode, out.text(), err.text()


def program():
    """The pyhost program to drive (pyhost._binary.executable(); $PYHOST_EXE overrides)."""
    return _binary.executable()
