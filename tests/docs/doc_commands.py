"""Finds what the docs claim, so that tests/docs can check it against the CLI and the tree.

- pyhost_commands(): every `pyhost` command line of a fenced bash/sh/shell/console block;
- check_command(): runs one with PYHOST_PARSE_ONLY=1 (docs/cli.md): the CLI's parse, nothing else;
- broken_links() / missing_paths(): relative links (with their #anchors) and repository paths in
  backticks that do not exist.

Kept free of pytest so that the negative tests can feed it a fake doc.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import pathlib
import re
import shlex
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]

SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
PYHOST_NAMES = {"pyhost", "pyhost-ft"}
# Words that end one command of a shell line and may start the next.
COMMAND_SEPARATORS = {"&&", "||", "|", ";", "&", "|&"}
REDIRECTIONS = {">", ">>", "<", ">&", "<&", "&>", ">|", "2>", "2>>"}
# Paths in backticks that are checked: folders of the repository.
PATH_PREFIXES = ("host/", "runtime/", "scripts/", "tests/", "bench/", "docs/", "examples/", ".ci/")

_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# Usage-synopsis words that a shell would take literally: `[OPTIONS]`, `[--mode M`, `N]`, `...`
# (an `<ARG>` is found in the line as written: the shell would read it as a redirection).
_PLACEHOLDER_WORD = re.compile(r"^\[|^[^\[]*\]$|^\.\.\.$")
_ANGLE_PLACEHOLDER = re.compile(r"<[A-Za-z][\w.|-]*>")


@dataclasses.dataclass
class DocCommand:
    """One pyhost invocation found in a doc: where, the line as written, and its words."""

    file: pathlib.Path
    line: int
    text: str
    argv: list[str]  # argv[0] is the pyhost word as written
    problem: str = ""  # set when the line cannot be checked as it stands

    @property
    def where(self) -> str:
        return f"{_shown(self.file)}:{self.line}"


def _shown(path: pathlib.Path) -> str:
    """A doc's name in messages: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def doc_files(root: pathlib.Path = REPO) -> list[pathlib.Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _blocks(text: str):
    """Yields (language, first line number, lines) of every fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, language = match.group(2), match.group(3).lower()
        start = i + 1
        i += 1
        body = []
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        yield language, start + 1, body


def _logical_lines(first_line: int, body: list[str]):
    """Joins backslash continuations; strips `$ ` prompts and comments. Yields (line no, text).

    Where a block has prompts (a console session), only the prompted lines are commands: the
    others are their output.
    """
    prompted = any(line.lstrip().startswith("$ ") for line in body)
    pending, pending_start = "", 0
    for offset, raw in enumerate(body):
        line = raw.rstrip()
        if not pending:
            pending_start = first_line + offset
            stripped = line.lstrip()
            if stripped.startswith("$ "):
                line = stripped[2:]
            elif prompted:
                continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending_start, pending + line
        pending = ""
    if pending:
        yield pending_start, pending


def _shell_words(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _pyhost_part(words: list[str]) -> list[str] | None:
    """The pyhost command of one shell command: from the pyhost word on, without redirections."""
    for start, word in enumerate(words):
        # Not `PYHOST_BIN=build/pyhost` (an assignment) nor `--opt=.../pyhost` (a value).
        if "=" not in word and os.path.basename(word) in PYHOST_NAMES:
            break
    else:
        return None
    argv, skip = [], False
    for word in words[start:]:
        if skip:
            skip = False
            continue
        if word in REDIRECTIONS:
            skip = True
            continue
        argv.append(word)
    return argv


def commands_in_text(text: str, file: pathlib.Path) -> list[DocCommand]:
    found = []
    for language, first_line, body in _blocks(text):
        if language not in SHELL_LANGUAGES:
            continue
        for line_no, line in _logical_lines(first_line, body):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                words = _shell_words(line)
            except ValueError as error:  # unbalanced quotes
                if re.search(r"\bpyhost", line):
                    found.append(DocCommand(file, line_no, line, [], f"cannot split: {error}"))
                continue
            command: list[str] = []
            for word in [*words, ";"]:
                if word not in COMMAND_SEPARATORS:
                    command.append(word)
                    continue
                argv = _pyhost_part(command)
                command = []
                if argv is None:
                    continue
                placeholders = _ANGLE_PLACEHOLDER.findall(line)
                placeholders += [w for w in argv[1:] if _PLACEHOLDER_WORD.match(w)]
                problem = (f"placeholder {placeholders[0]!r} in a shell block"
                           if placeholders else "")
                found.append(DocCommand(file, line_no, line, argv, problem))
    return found


def pyhost_commands(files=None) -> list[DocCommand]:
    found = []
    for path in files or doc_files():
        found.extend(commands_in_text(path.read_text(encoding="utf-8"), path))
    return found


def default_pyhost_bin() -> str:
    return os.environ.get("PYHOST_BIN", str(REPO / "build" / "pyhost"))


def check_command(command: DocCommand, pyhost_bin: str | None = None) -> str:
    """'' when the command parses; otherwise what is wrong, starting with file:line."""
    if command.problem:
        return f"{command.where}: {command.problem}: {command.text}"
    env = dict(os.environ, PYHOST_PARSE_ONLY="1")
    # pyhost-ft is the same program (same sources, same CLI) built against another CPython.
    result = subprocess.run([pyhost_bin or default_pyhost_bin(), *command.argv[1:]], env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if result.returncode == 0:
        return ""
    why = (result.stderr or result.stdout).strip().splitlines()
    return (f"{command.where}: `{shlex.join(command.argv)}` does not parse "
            f"(exit {result.returncode}): {' | '.join(why[-3:])}")


# --- links and paths --------------------------------------------------------------------------

def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors_of(path: pathlib.Path) -> set[str]:
    anchors, seen = set(), {}
    in_block = False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if _FENCE.match(line):
            in_block = not in_block
            continue
        if in_block or not line.startswith("#"):
            continue
        base = github_anchor(line.lstrip("#"))
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


def _prose_lines(text: str):
    """(line number, line) outside fenced blocks."""
    in_block, fence = False, ""
    for number, line in enumerate(text.split("\n"), 1):
        match = _FENCE.match(line)
        if match and (not in_block or line.strip().startswith(fence)):
            in_block, fence = (not in_block), match.group(2)
            continue
        if not in_block:
            yield number, line


def broken_links(path: pathlib.Path) -> list[str]:
    problems = []
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        for target in _LINK.findall(_INLINE_CODE.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                problems.append(f"{_shown(path)}:{number}: link to a missing file: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
                problems.append(f"{_shown(path)}:{number}: no heading #{anchor} in "
                                f"{file_part or path.name}")
    return problems


def missing_paths(path: pathlib.Path, root: pathlib.Path = REPO) -> list[str]:
    problems = []
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        for _, code in _INLINE_CODE.findall(line):
            for word in code.split():
                word = word.rstrip(".,;:)").lstrip("(")
                if not word.startswith(PATH_PREFIXES):
                    continue
                if not (glob.glob(str(root / word)) if "*" in word else (root / word).exists()):
                    problems.append(f"{_shown(path)}:{number}: `{word}` does not exist")
    return problems
