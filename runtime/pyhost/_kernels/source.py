"""The source of a kernel or func: its parsed definition, globals and closure, and errors that
point at its lines."""
import ast
import inspect
import textwrap

from .errors import KernelSyntaxError


class _Unresolved(Exception):
    """A global name is not defined yet: translation is retried at the first launch."""


class FunctionSource:
    """The parsed source of a kernel or func, with what is needed to point at its lines."""

    def __init__(self, pyfunc, what):
        self.pyfunc = pyfunc
        self.what = what  # "kernel" | "func"
        self.name = pyfunc.__name__
        code = pyfunc.__code__
        self.filename = code.co_filename
        try:
            lines, first = inspect.getsourcelines(pyfunc)
        except (OSError, TypeError) as exc:
            raise KernelSyntaxError(
                f"cannot read the source of {what} '{self.name}' ({exc}); kernels must be "
                f"defined in a file", filename=self.filename, lineno=code.co_firstlineno,
                construct="source unavailable") from None
        self.first_line = first
        self.lines = lines
        tree = ast.parse(textwrap.dedent("".join(lines)))
        fdefs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if not fdefs:
            raise KernelSyntaxError(f"{what} '{self.name}' is not a plain function definition",
                                    filename=self.filename, lineno=first,
                                    construct="not a function")
        self.tree = fdefs[0]
        self.globals = pyfunc.__globals__
        self.closure = {}
        if pyfunc.__closure__:
            for name, cell in zip(code.co_freevars, pyfunc.__closure__):
                try:
                    self.closure[name] = cell.cell_contents
                except ValueError:
                    pass

    def lineno(self, node):
        return self.first_line + getattr(node, "lineno", 1) - 1

    def line_text(self, node):
        idx = getattr(node, "lineno", 1) - 1
        return self.lines[idx].rstrip("\n") if 0 <= idx < len(self.lines) else ""

    def error(self, cls, message, node, construct=None):
        return cls(message, filename=self.filename, lineno=self.lineno(node),
                   source_line=self.line_text(node), construct=construct, kernel=self.name)

    def reject(self, construct, node, hint=""):
        msg = f"{construct} is not supported in @pyhost.{self.what} '{self.name}'"
        if hint:
            msg += f" ({hint})"
        return self.error(KernelSyntaxError, msg, node, construct)


def assignment_targets(fn):
    """The names every assignment in `fn` binds (=, augmented, annotated, for-loop targets,
    tuple unpacking), in the order they appear, once per binding."""
    names = []

    def add(target):
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Tuple):
            for element in target.elts:
                add(element)

    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
            add(node.target)
    return names


def assignment_counts(fn):
    """{name: how many times `fn` binds it}."""
    counts = {}
    for name in assignment_targets(fn):
        counts[name] = counts.get(name, 0) + 1
    return counts
