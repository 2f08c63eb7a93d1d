"""The docs cannot rot silently: every `pyhost` command shown in a shell block of README.md and
docs/*.md still parses (PYHOST_PARSE_ONLY=1, docs/cli.md), and every relative link and repository
path they name exists.

Environment: PYHOST_BIN, the pyhost binary (default: <repo>/build/pyhost).
"""
import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import doc_commands as docs  # noqa: E402

COMMANDS = docs.pyhost_commands()


def _need_binary():
    if not os.access(docs.default_pyhost_bin(), os.X_OK):
        pytest.fail(f"no pyhost binary at {docs.default_pyhost_bin()} (set PYHOST_BIN)")


def test_the_docs_show_pyhost_commands():
    # The README's two newcomer commands are there, and the extraction finds commands in docs/.
    readme = (docs.REPO / "README.md").read_text()
    assert ("bash .ci/setup && build/pyhost compare scripts/cpu_bound.py --workers 1,2 --repeat 3"
            in readme)
    assert "\nbash .ci/test\n" in readme
    where = {c.file.name for c in COMMANDS}
    assert "README.md" in where and "cli.md" in where, where
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_doc_command_parses(command):
    _need_binary()
    problem = docs.check_command(command)
    assert not problem, problem


@pytest.mark.parametrize("doc", docs.doc_files(), ids=lambda p: p.name)
def test_relative_links_exist(doc):
    assert docs.broken_links(doc) == []


@pytest.mark.parametrize("doc", docs.doc_files(), ids=lambda p: p.name)
def test_paths_in_backticks_exist(doc):
    assert docs.missing_paths(doc) == []


# --- the checker itself ------------------------------------------------------------------------

FAKE_DOC = """# A fake page

```bash
build/pyhost run --mode threads -j 2 scripts/cpu_bound.py
build/pyhost run --no-such-flag x.py
```

```sh
$ PYHOST_LOG=debug mpirun -n 2 build/pyhost run \\
    --engine mpi --mode threads x.py | head -1
[task 0] output of a command, not one: pyhost run --no-such-flag
$ bash .ci/setup && build/pyhost-ft run --mode nonsense x.py
```

```
pyhost run [OPTIONS] SCRIPT     (a synopsis: not checked)
```

```python
pyhost.run("not a shell line")
```

```console
srun -N 2 pyhost batch jobs.toml --engine mpi --jobs 0
build/pyhost compare <SCRIPT> --workers 2
pyhost run [--mode M] x.py
```
"""


def _fake_commands(tmp_path):
    doc = tmp_path / "fake.md"
    doc.write_text(FAKE_DOC)
    return docs.pyhost_commands([doc])


def test_extraction_finds_every_form(tmp_path):
    found = [(c.line, c.argv) for c in _fake_commands(tmp_path)]
    assert found == [
        (4, ["build/pyhost", "run", "--mode", "threads", "-j", "2", "scripts/cpu_bound.py"]),
        (5, ["build/pyhost", "run", "--no-such-flag", "x.py"]),
        # prompt stripped, continuation joined, env and mpirun dropped, the pipe's reader ignored;
        # the unprompted line after it is output
        (9, ["build/pyhost", "run", "--engine", "mpi", "--mode", "threads", "x.py"]),
        (12, ["build/pyhost-ft", "run", "--mode", "nonsense", "x.py"]),
        (24, ["pyhost", "batch", "jobs.toml", "--engine", "mpi", "--jobs", "0"]),
        (25, ["build/pyhost", "compare", "2"]),  # a shell reads <SCRIPT> as redirections
        (26, ["pyhost", "run", "[--mode", "M]", "x.py"]),
    ]


def test_checker_reports_broken_commands_with_file_and_line(tmp_path):
    _need_binary()
    problems = {c.line: docs.check_command(c) for c in _fake_commands(tmp_path)}
    assert problems[4] == "" and problems[9] == ""
    assert problems[5].startswith(f"{tmp_path / 'fake.md'}:5: ")
    assert "--no-such-flag" in problems[5] and "exit 2" in problems[5]
    assert "nonsense" in problems[12]  # not one of --mode's choices
    assert "exit 2" in problems[24]  # --jobs 0 is out of range
    assert "placeholder '<SCRIPT>'" in problems[25]
    assert "placeholder '[--mode'" in problems[26]


def test_parse_only_runs_nothing(tmp_path):
    # A script that would leave a file behind if it ran: under PYHOST_PARSE_ONLY=1 it does not.
    _need_binary()
    marker = tmp_path / "ran"
    script = tmp_path / "leave_a_mark.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    command = docs.DocCommand(tmp_path / "x.md", 1, "", ["pyhost", "run", str(script)])
    assert docs.check_command(command) == ""
    assert not marker.exists()


def test_link_and_path_checks_catch_what_is_missing(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A section: `x`\n")
    doc = tmp_path / "page.md"
    doc.write_text(
        "# Page\n"
        "[ok](other.md) [ok](other.md#a-section-x) [web](https://example.org/x) [self](#page)\n"
        "[gone](missing.md) [bad anchor](other.md#no-such-heading)\n"
        "`host/cli/main.cpp`, `host/no_such_file.cpp --flag`, `tests/unit/core/*.cpp`,"
        " `PYHOST_LOG`\n"
        "```\nhost/not/checked/in/blocks.cpp\n```\n")
    links = docs.broken_links(doc)
    assert len(links) == 2
    assert links[0].endswith(":3: link to a missing file: missing.md")
    assert links[1].endswith(":3: no heading #no-such-heading in other.md")
    assert docs.missing_paths(doc) == [f"{doc}:4: `host/no_such_file.cpp` does not exist"]
