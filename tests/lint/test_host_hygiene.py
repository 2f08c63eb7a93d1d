"""Checks of the C++ tree that keep it the way review left it: one copy of each piece of plumbing,
no dead declarations, no build options that do nothing. Plain Python over the sources (no build)."""
import pathlib
import re
from collections import Counter

REPO = pathlib.Path(__file__).resolve().parents[2]
HOST = REPO / "host"


def sources(*suffixes, root=None):
    root = root or HOST
    return sorted(p for p in root.rglob("*") if p.suffix in suffixes and p.is_file())


def text_of(paths):
    return {p: p.read_text() for p in paths}


def relative(path):
    return str(path.relative_to(REPO))


def test_one_write_loop_for_the_whole_host():
    # write(2) returns after part of the data or fails with EINTR: util/write_all.hpp is the one
    # loop that handles both. The other writes are one write(2) on purpose: a self-pipe wake-up
    # (one byte from a signal handler, where a full pipe already means a wake-up is pending), and
    # the sandbox's uid/gid maps and start byte (the kernel takes a map in exactly one write).
    allowed = {"host/util/write_all.hpp", "host/batch/signal_watcher.cpp",
               "host/sandbox/confine.cpp"}
    offenders = [relative(p) for p, text in text_of(sources(".cpp", ".hpp", ".c")).items()
                 if re.search(r"(?<![\w>])::write\(", text) and relative(p) not in allowed]
    assert offenders == [], f"write(2) outside util/write_all.hpp: {offenders}"


def test_children_start_in_one_place():
    # util/child_process.cpp forks and execs with everything prepared; nothing else starts a
    # program (the CLI's exec of the free-threaded companion, and `pyhost __sandboxed`'s exec of
    # pyhost once confined, replace the process itself: no child; the sandbox's probe forks a
    # child that only tries unshare(2) and exits, no program).
    pattern = re.compile(r"\bfork\(|posix_spawn|boost/process|bp::child|\bexecv?p?e?\(")
    allowed = {"host/util/child_process.cpp", "host/cli/run_command.cpp",
               "host/cli/sandbox_options.cpp", "host/sandbox/support.cpp"}
    offenders = [relative(p) for p, text in text_of(sources(".cpp", ".hpp", ".c")).items()
                 if pattern.search(text) and relative(p) not in allowed]
    assert offenders == [], f"children started outside util/child_process.cpp: {offenders}"


DECLARATION = re.compile(
    r"^\s+(?:virtual\s+|static\s+|inline\s+|constexpr\s+|explicit\s+|\[\[\w+\]\]\s+)*"
    r"[\w:<>,\s\*&]+?\s+[\*&]?(\w+)\([^;{]*\)\s*(?:const)?\s*(?:noexcept)?\s*(?:override)?\s*[;{]",
    re.M)


def test_no_member_function_is_declared_and_never_used():
    headers = sources(".hpp", ".h")
    everything = "\n".join(p.read_text() for root in ("host", "tests", "examples", "bench")
                           for p in sources(".cpp", ".hpp", ".c", ".h", root=REPO / root))
    words = Counter(re.findall(r"\b\w+\b", everything))
    unused = []
    for header in headers:
        for match in DECLARATION.finditer(header.read_text()):
            name = match.group(1)
            if name in {"if", "for", "while", "switch", "return", "operator"} or name.startswith("Py"):
                continue  # statements, and CPython's macros called in inline bodies
            # Out-of-line definitions start at column 0 ("void Class::name("); calls are indented.
            definitions = len(re.findall(r"^\S[^\n]*::%s\(" % re.escape(name), everything, re.M))
            # Its declaration (with an inline body, or one out-of-line definition) and no use.
            if words[name] - definitions <= 1:
                unused.append(f"{relative(header)}: {name}")
    assert unused == [], f"declared but never used: {unused}"


def test_every_cmake_option_is_used():
    cmake_files = [REPO / "CMakeLists.txt", *sorted(REPO.glob("**/CMakeLists.txt")),
                   *sorted((REPO / "cmake").glob("*.cmake"))]
    text = "\n".join(p.read_text() for p in set(cmake_files) if ".git" not in p.parts)
    scripts = "\n".join(p.read_text() for p in (REPO / ".ci").iterdir() if p.is_file())
    for name in re.findall(r"^\s*option\((\w+)", text, re.M):
        uses = len(re.findall(r"\b%s\b" % name, text))
        assert uses > 1, f"CMake option {name} is declared and never read"
    for name in set(re.findall(r"-D(PYHOST_\w+)=", scripts)):
        assert re.search(r"\b%s\b" % name, text), f".ci passes {name}, which CMake never reads"
