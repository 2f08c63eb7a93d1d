"""`pyhost.compare()`, `pyhost.run()` and `pyhost.info()`: the `pyhost` program driven from Python
(a notebook, a script under plain python). Each call is one child `pyhost compare|run|info` with
its --json (and compare's --html) written to a temporary folder and read back (docs/jupyter.md)."""
import json
import pathlib
import tempfile

from . import _driver
from ._results import CompareResult, Info, RunResult


def _reports(words, tmp, names):
    """Words that make pyhost write each report in names (--json, --html) into tmp, and where
    each will be; a report the caller asked for itself (`--json mine.json`) stays theirs."""
    extra, paths = [], {}
    for name in names:
        flag = "--" + name
        given = _driver.given_option(words, flag)
        if given is None:
            given = str(pathlib.Path(tmp) / f"report.{name}")
            extra += [flag, given]
        paths[name] = pathlib.Path(given)
    return extra, paths


def _read(path):
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def compare_words(script_or_code, args=(), words=(), *, stream=False):
    """`pyhost compare WORDS SCRIPT ARGS` (WORDS: its options as the CLI spells them)."""
    words = list(words)
    if _driver.given_option(words, "--color") is None:
        words += ["--color", "never"]
    with _driver.script_file(script_or_code) as (script, env), \
            tempfile.TemporaryDirectory(prefix="pyhost-compare-") as tmp:
        extra, paths = _reports(words, tmp, ("json", "html"))
        args = [str(a) for a in args]
        # compare takes ARGS that start with '-' only after `--` (docs/compare.md).
        tail = [script, "--", *args] if any(a.startswith("-") for a in args) else [script, *args]
        argv = [_driver.program(), "compare", *words, *extra, *tail]
        code, out, err = _driver.execute(argv, stream=stream, env=env)
        if code != 0:
            raise _driver.PyhostError(argv, code, err)
        return CompareResult(json.loads(paths["json"].read_text(encoding="utf-8")),
                             html=_read(paths["html"]) or "", text=out, stderr=err, argv=argv)


def run_words(script_or_code, args=(), words=(), *, stream=False):
    """`pyhost run WORDS SCRIPT ARGS` (WORDS: its options as the CLI spells them)."""
    words = list(words)
    with _driver.script_file(script_or_code) as (script, env), \
            tempfile.TemporaryDirectory(prefix="pyhost-run-") as tmp:
        extra, paths = _reports(words, tmp, ("json",))
        argv = [_driver.program(), "run", *words, *extra, script, *map(str, args)]
        code, out, err = _driver.execute(argv, stream=stream, env=env)
        text = _read(paths["json"])
        result = None if text is None else RunResult(json.loads(text), output=out, stderr=err,
                                                      returncode=code, argv=argv)
        if code != 0:
            raise _driver.PyhostError(argv, code, err, result)
        return result


def compare(script_or_code, *args, modes=None, workers=None, repeat=None, warmup=None, tasks=None,
            stream=False, **options):
    """Measure a script (a path, or Python code as a string) in several execution modes with
    `pyhost compare`; returns a CompareResult (its fields are compare's --json; in a notebook it
    shows the HTML report). modes and workers take lists (`modes=["serial", "threads"],
    workers=[1, 2]`) or the CLI's comma-separated text; other keyword options are compare's flags
    (`csv="table.csv"`). args go to the script. stream=True prints compare's output as it comes.
    Raises PyhostError when pyhost exits non-zero (a failed run, a usage error: exit status 2)."""
    words = _driver.option_words(dict(modes=modes, workers=workers, repeat=repeat, warmup=warmup,
                                      tasks=tasks, **options))
    return compare_words(script_or_code, args, words, stream=stream)


def run(script_or_code, *args, mode=None, workers=None, tasks=None, stream=False, **options):
    """Run a script (a path, or Python code as a string) as tasks with `pyhost run`; returns a
    RunResult (its fields are run's --json; in a notebook it shows a table of the tasks). Keyword
    options are run's flags: `timeout=30`, `fresh_workers=True`, `sandbox_read=[...]`. args go to
    the script. stream=True prints the tasks' output as it comes. Raises PyhostError when pyhost
    exits non-zero (a task failed: 1, or one task's own status; its `.result` has the run)."""
    words = _driver.option_words(dict(mode=mode, workers=workers, tasks=tasks, **options))
    return run_words(script_or_code, args, words, stream=stream)


def info_text(words=()):
    """What `pyhost info WORDS` prints."""
    argv = [_driver.program(), "info", *words]
    code, out, err = _driver.execute(argv)
    if code != 0:
        raise _driver.PyhostError(argv, code, err)
    return out


def info():
    """`pyhost info --json` as an Info: `python`, `cores`, `freethreaded_companion`, ...;
    `.freethreaded` says whether `--mode freethreaded` can run here."""
    return Info(json.loads(info_text(["--json"])))
