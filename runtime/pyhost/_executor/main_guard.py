"""The main script may be run again in a worker (when a call needs a name of it): an executor
made by the script's top level outside `if __name__ == "__main__":` would be made again there.
The worker refuses that (GUARD_ERROR), but only when it loads the script, which a call sent by
value may never need: refuse_unguarded_creation() raises the same error in the script, from its
source, whatever the calls need."""
import sys

GUARD_ERROR = ("pyhost.Executor was created while a worker was loading the main script to find "
               "a function in it; create executors under `if __name__ == \"__main__\":`")


_guarded_lines = {}  # (script, line) -> whether the line is under `if __name__ ...`


def refuse_unguarded_creation(main, depth=2):
    """RuntimeError when the executor being made is made by the top level of `main` (the frames
    from `depth` up) outside `if __name__ == "__main__":`."""
    path = getattr(main, "__file__", None)
    namespace = getattr(main, "__dict__", None)
    frame = sys._getframe(depth)
    while frame is not None and not (frame.f_globals is namespace and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None or not path:
        return  # not made by the script's top level (or no script): nothing to check
    key = (path, frame.f_lineno)
    guarded = _guarded_lines.get(key)
    if guarded is None:  # parsing takes ~2 ms: once per line of the script that makes executors
        try:
            import _ast

            with open(path, "rb") as source:
                tree = compile(source.read(), path, "exec", _ast.PyCF_ONLY_AST)
        except Exception:  # noqa: BLE001 - unreadable now: the worker's own check still applies
            return
        guarded = _guarded_lines[key] = _under_name_test(tree.body, frame.f_lineno)
    if not guarded:
        raise RuntimeError(
            "pyhost.Executor was created by the main script's top level outside `if __name__ == "
            "\"__main__\":`: its workers may run the script to find its functions and would "
            "create it again; create executors under `if __name__ == \"__main__\":`")


def _under_name_test(statements, line):
    """Whether `line` lies in the body of an `if` that tests __name__, among these statements."""
    import _ast

    for node in statements:
        first = getattr(node, "lineno", None)  # match cases have none: their body does
        if first is not None and not first <= line <= (node.end_lineno or first):
            continue
        if isinstance(node, _ast.If) and any(isinstance(n, _ast.Name) and n.id == "__name__"
                                             for n in _walk(node.test)):
            return True
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if children and _under_name_test(children, line):
                return True
    return False


def _walk(node):
    import _ast

    todo = [node]
    while todo:
        node = todo.pop()
        yield node
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, _ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(v for v in value if isinstance(v, _ast.AST))
