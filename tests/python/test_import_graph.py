"""No module of runtime/pyhost imports itself through others (an import circle), and every pyhost
module named by code the runtime or the host runs elsewhere exists.

The graph is built from the source with `ast`, not by importing: every `import` and `from ...
import` counts, at module level or inside a function, a `try` or an `if` (a function-level import
that only hides a circle is still one). Imports of modules outside pyhost (the standard library,
_pyhost, numpy, optional third-party packages in their try/except ImportError) are not edges.
A module's implicit import of its parent packages is not an edge either: that is how every
package works; `from . import name`, where name is not a submodule, is an edge to the package.
Plain pytest: no pyhost binary is needed.
"""
import ast
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
RUNTIME = REPO / "runtime"


def module_files(root):
    """{module name: (path, is_package)} of every .py under root/pyhost."""
    modules = {}
    for path in sorted((root / "pyhost").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = (path, is_package)
    return modules


def _resolve_from(name, is_package, node):
    """The absolute module an ImportFrom node imports from."""
    if not node.level:
        return node.module
    package = name if is_package else name.rpartition(".")[0]
    parts = package.split(".")
    if node.level - 1 > len(parts) - 1:
        raise ImportError(f"{name}: relative import beyond the top-level package (line {node.lineno})")
    base = ".".join(parts[:len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def imports_of(name, path, is_package, modules):
    """{imported module: first line} for the pyhost modules that module `name` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = {}

    def add(target, line):
        if target != name:
            found.setdefault(target, line)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve_from(name, is_package, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    add(submodule, node.lineno)
                elif source in modules:
                    add(source, node.lineno)
    return found


def import_graph(root):
    modules = module_files(root)
    return {name: imports_of(name, path, is_package, modules)
            for name, (path, is_package) in modules.items()}


def find_cycle(graph):
    """One import circle as [a, b, ..., a], or None. Depth-first, iterative, deterministic."""
    state = {}  # name -> 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return path[path.index(following):] + [following]
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(graph.get(following, ()))))
    return None


def describe(cycle, graph):
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_runtime_has_no_import_circle():
    graph = import_graph(RUNTIME)
    assert "pyhost._executor.executor" in graph and "pyhost.cuda._builtins" in graph, sorted(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + describe(cycle, graph)


# --- the check itself finds what it must ------------------------------------------------------

def make_package(root, files):
    for relative, text in files.items():
        path = root / "pyhost" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_circle_hidden_in_a_function_level_import_is_found(tmp_path):
    root = make_package(tmp_path, {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "def later():\n    from .a import thing\n",
    })
    graph = import_graph(root)
    assert graph["pyhost.a"] == {"pyhost.b": 1} and graph["pyhost.b"] == {"pyhost.a": 2}
    assert find_cycle(graph) == ["pyhost.a", "pyhost.b", "pyhost.a"]
    assert describe(find_cycle(graph), graph) == "pyhost.a (line 1) -> pyhost.b (line 2) -> pyhost.a"


def test_absolute_names_packages_and_guarded_imports_count(tmp_path):
    root = make_package(tmp_path, {
        "__init__.py": "",
        "sub/__init__.py": "from .x import X\nTABLE = {}\n",
        # A name of the package (not a submodule) is an edge to the package's __init__.
        "sub/x.py": "X = 1\ndef f():\n    from . import TABLE\n",
        # A pyhost import inside try/except ImportError is still an edge; numpy is not one.
        "y.py": "try:\n    import numpy\n    import pyhost.sub.x\nexcept ImportError:\n    pass\n",
    })
    graph = import_graph(root)
    assert graph["pyhost.sub"] == {"pyhost.sub.x": 1}
    assert graph["pyhost.sub.x"] == {"pyhost.sub": 3}
    assert graph["pyhost.y"] == {"pyhost.sub.x": 3}
    assert find_cycle(graph) == ["pyhost.sub", "pyhost.sub.x", "pyhost.sub"]


def test_a_graph_without_circles_passes(tmp_path):
    root = make_package(tmp_path, {
        "__init__.py": "",
        "low.py": "import os\n",
        "mid.py": "from . import low\n",
        "top.py": "from .mid import low\nfrom pyhost import low as again\n",
    })
    graph = import_graph(root)
    assert graph["pyhost.top"] == {"pyhost.mid": 1, "pyhost.low": 2}
    assert find_cycle(graph) is None


# --- module names in code run elsewhere ---------------------------------------------------------

# `import pyhost.x.y` / `from pyhost.x import y` inside string constants: code that workers, the
# fork server or a serving rank run (`pyhost run -c ...`, sub-interpreter start code).
_CODE_IMPORT = re.compile(r"\b(?:import|from)\s+(pyhost(?:\.\w+)+)")
# Module names the C++ host imports or runs (`PyImport_ImportModule("pyhost._host")`, `-m`).
_HOST_NAME = re.compile(r'"(pyhost(?:\.\w+)+)"')


def _string_constants(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_modules_named_in_code_run_elsewhere_exist():
    modules = module_files(RUNTIME)
    named = {}
    for name, (path, _) in modules.items():
        for text in _string_constants(path):
            for module in _CODE_IMPORT.findall(text):
                named.setdefault(module, name)
    assert "pyhost._executor.worker" in named, named  # the workers' start code is seen
    missing = {module: where for module, where in named.items() if module not in modules}
    assert not missing, f"code strings import modules that do not exist: {missing}"


def test_modules_the_host_imports_exist():
    modules = module_files(RUNTIME)
    host = REPO / "host"
    if not host.is_dir():
        pytest.skip("no host/ sources next to this runtime")
    named = {}
    for path in sorted(host.rglob("*.[ch]pp")):
        for module in _HOST_NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            named.setdefault(module, str(path.relative_to(REPO)))
    assert "pyhost._host" in named, named
    missing = {module: where for module, where in named.items() if module not in modules}
    assert not missing, f"the host names modules that do not exist: {missing}"
