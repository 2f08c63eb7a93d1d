"""The direct loop's guard split: the part of a row where a kernel's edge test holds.

Stencils and other kernels that treat the edges of an array apart test the launch index against
them (``if 0 < x and x < w - 1 and 0 < y and y < h - 1:``). In the direct loop (direct.py) the
C++ compiler evaluates such a test for every element and masks each load and the store with it
(a 2-D stencil's vectorised loop runs 1.25x slower than the same loop without the test). When
the test of a top-level ``if`` is a conjunction (``and``, chained comparisons) of comparisons
between the row's launch index plus or minus a literal and values that stay the same along a row
(integer parameters, array shapes, the other launch indices, locals assigned once from these
before the ``if``), the indices where it holds form one interval. ``ph_dr_<name>`` computes it
once per row (in 128-bit integers: exact); the direct loop runs that interval with
``ph_dt_<name>``, the direct body with the test left out and only its ``if`` branch, and the
rest of the row with the direct body itself. Every other kernel keeps the direct body alone.
"""
import ast

from . import types as kt
from .lowering import FnTranslator
from .source import assignment_counts
from .typing_rules import Val, arith_type, cast, ctype, mangle

# x + c OP e  <=>  x OP' e - c;  e OP x + c  <=>  x + c (flipped OP) e
_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq}


class NotSplit(Exception):
    """The kernel's direct body runs the whole direct range (no guard to split on)."""


class Guard:
    """A top-level ``if`` whose test holds on one interval of each row."""

    def __init__(self, node, bounds, checks, defs):
        self.node = node        # the ast.If
        self.bounds = bounds    # [(op class, c, node e)]: the test has x + c OP e
        self.checks = checks    # [ast.Compare]: parts of the test that are the same along a row
        self.defs = defs        # top-level statements before it that the range function runs


def _int_scalar(t):
    return isinstance(t, kt.ScalarType) and t.is_int and not t.is_bool


class _Finder:
    """Which names and expressions stay the same along a row, in the body before the guard."""

    def __init__(self, tr, tids):
        self.tr = tr
        self.x_names = {n for n, d in tids.items() if d == 0}
        self.row_names = {n for n, d in tids.items() if d > 0}
        self.counts = assignment_counts(tr.src.tree)
        self.arrays = {n for n, t in zip(tr.param_names, tr.param_types)
                       if isinstance(t, kt.ArrayType)}
        self.invariant = set(self.row_names)
        self.invariant |= {n for n, t in zip(tr.param_names, tr.param_types)
                           if isinstance(t, kt.ScalarType)}

    def same_along_row(self, node):
        if isinstance(node, ast.Constant):
            return type(node.value) is int and abs(node.value) < (1 << 62)
        if isinstance(node, ast.Name):
            return node.id in self.invariant
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            return self.same_along_row(node.left) and self.same_along_row(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.same_along_row(node.operand)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            return (node.value.attr == "shape" and isinstance(node.value.value, ast.Name) and
                    node.value.value.id in self.arrays and isinstance(node.slice, ast.Constant)
                    and type(node.slice.value) is int)
        return False

    def note_definition(self, stmt):
        """Whether ``stmt`` assigns names once each from values that stay the same along a row
        (``w = a.shape[1] - 1``, ``h, w = a.shape``); if so they count as such from now on."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return False
        target, value = stmt.targets[0], stmt.value
        names = [target] if isinstance(target, ast.Name) else list(getattr(target, "elts", []))
        if not names or not all(isinstance(n, ast.Name) and self.counts.get(n.id) == 1 and
                                n.id not in self.tr.param_names and
                                _int_scalar(self.tr.var_types.get(n.id)) for n in names):
            return False
        if isinstance(target, ast.Name):
            ok = self.same_along_row(value)
        elif isinstance(value, ast.Tuple):
            ok = len(value.elts) == len(names) and all(self.same_along_row(e)
                                                       for e in value.elts)
        else:  # h, w = a.shape
            ok = (isinstance(value, ast.Attribute) and value.attr == "shape" and
                  isinstance(value.value, ast.Name) and value.value.id in self.arrays and
                  self.tr.param_types[self.tr.param_names.index(value.value.id)].ndim ==
                  len(names))
        if ok:
            self.invariant |= {n.id for n in names}
        return ok

    def row_index(self, node):
        """c when ``node`` is the row's launch index plus or minus the literal c, else None."""
        if isinstance(node, ast.Name) and node.id in self.x_names:
            return 0
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = node.left, node.right
            if isinstance(node.op, ast.Add) and isinstance(right, ast.Name):
                left, right = right, left
            if isinstance(left, ast.Name) and left.id in self.x_names and \
                    isinstance(right, ast.Constant) and type(right.value) is int and \
                    abs(right.value) < (1 << 31):
                return right.value if isinstance(node.op, ast.Add) else -right.value
        return None

    def parts(self, test, bounds, checks):
        """Splits ``test`` into bounds on the row's index and row-wide checks; False if it is
        not a conjunction of such comparisons."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return all(self.parts(v, bounds, checks) for v in test.values)
        if not isinstance(test, ast.Compare):
            return False
        operands = [test.left] + list(test.comparators)
        for left, op, right in zip(operands, test.ops, operands[1:]):
            cl, cr = self.row_index(left), self.row_index(right)
            if self.same_along_row(left) and self.same_along_row(right):
                checks.append(ast.copy_location(
                    ast.Compare(left=left, ops=[op], comparators=[right]), test))
            elif type(op) not in _FLIP:
                return False
            elif cl is not None and self.same_along_row(right):
                bounds.append((type(op), cl, right))
            elif cr is not None and self.same_along_row(left):
                bounds.append((_FLIP[type(op)], cr, left))
            else:
                return False
        return True


def find_guard(tr, tids, is_tid_statement):
    """The first top-level ``if`` of the direct translator ``tr``'s body whose test splits, or
    None. ``tids``: {name: launch dimension}."""
    if not any(d == 0 for d in tids.values()):
        return None
    finder = _Finder(tr, tids)
    defs = []
    for stmt in tr.body_statements():
        if isinstance(stmt, ast.If):
            bounds, checks = [], []
            if finder.parts(stmt.test, bounds, checks) and bounds:
                return Guard(stmt, bounds, checks, list(defs))
        if is_tid_statement(stmt) or finder.note_definition(stmt):
            defs.append(stmt)
    return None


class RangeTranslator(FnTranslator):
    """``ph_dr_<name>``: narrows [*ph_s0, *ph_s1) to the indices where the guard holds."""

    def __init__(self, scalar, guard, cname):
        super().__init__(scalar.unit, scalar.src, scalar.param_types, kernel=True, cname=cname)
        self.var_types = dict(scalar.var_types)
        self.fixed = dict(scalar.fixed)
        self.origins = dict(scalar.origins)
        self.guard = guard

    def set_var_type(self, name, v, node):
        return self.var_types[name]  # settled by the scalar pass

    def run(self):
        self.start_walk()
        self.stmts(self.guard.defs)
        x = Val("ph_t0", kt.i64, simple=True)
        for op, c, node in self.guard.bounds:
            e = self.expr(node)
            if not (_int_scalar(e.type) and e.pure and arith_type(x, e)[0] is kt.i64):
                raise NotSplit(f"'{ast.unparse(node)}' is not a 64-bit integer comparison")
            b = f"(__int128)({cast(e, kt.i64)}) - ({c})"
            if op in (ast.Lt, ast.LtE, ast.Eq):
                self.emit(f"{{ const __int128 ph_b = {b}{' + 1' if op is not ast.Lt else ''};"
                          f" if (ph_hi > ph_b) ph_hi = ph_b; }}")
            if op in (ast.Gt, ast.GtE, ast.Eq):
                self.emit(f"{{ const __int128 ph_b = {b}{' + 1' if op is ast.Gt else ''};"
                          f" if (ph_lo < ph_b) ph_lo = ph_b; }}")
        for node in self.guard.checks:
            v = self.expr(node)
            if not v.pure:
                raise NotSplit("a row-wide check has side effects")
            self.emit(f"if (!{v.code}) ph_hi = ph_lo;")
        code = "\n".join(self.out.lines)
        if "ph_err" in code:
            raise NotSplit("evaluating the guard can fail")
        return self.emit_range()

    def emit_range(self):
        params = ["ph_i64 ph_t0", "ph_i64 ph_t1", "ph_i64 ph_t2"]
        params += [f"{ctype(t)} {mangle(n)}" for n, t in zip(self.param_names, self.param_types)]
        params += ["ph_i64* ph_s0", "ph_i64* ph_s1"]
        lines = [f"// the part of a row where the test of line {self.src.lineno(self.guard.node)} "
                 f"holds",
                 f"PH_FN void {self.cname}({', '.join(params)}) {{"]
        for name in self.locals:
            t = self.var_types.get(name)
            if name not in self.param_names and t is not None and not isinstance(t, kt.ArrayType):
                lines.append(f"  {ctype(t)} {mangle(name)} = 0;")
        lines += [f"  {ctype(t)} {tmp};" for tmp, t in self.tmp_decls]
        lines.append("  __int128 ph_lo = *ph_s0, ph_hi = *ph_s1;")
        lines += self.out.lines
        lines += ["  if (ph_lo >= ph_hi) ph_lo = ph_hi = *ph_s1;  // nowhere in this row",
                  "  *ph_s0 = (ph_i64)ph_lo;",
                  "  *ph_s1 = (ph_i64)ph_hi;",
                  "}"]
        return "\n".join(lines)
