"""The direct CPU loop of a loop-free kernel: a plain C++ loop over the launch index that the C++
compiler vectorises (SAXPY, stencils).

An array access whose every index is the launch index plus a constant (``x[i]``, ``a[y - 1, x]``,
``out[y, x]``: "affine") cannot fail where the launch index stays in a range the entry point
computes for each row before it runs it, so inside that range it compiles to a plain
``data[offset]`` with no bounds check and no error path. Every other access, and every index
outside the range (a row's first or last elements in a stencil), runs the checked scalar body:
the results and the errors are those of the scalar loop, element for element.

Only 1-D and 2-D kernels without ``for``/``while`` loops, atomics or writing ``@pyhost.func``
calls get it, and only where every array the kernel writes is read and written at each index's
own element (the loop is vectorised: no index may see another one's writes); kernels with loops
get the lanes of ``lanes.py``. Affine loads of arrays the kernel never writes are taken first,
so that the compiler blends the two sides of an ``if`` instead of masking each load. The rest
of the translation is the scalar translator's, with the types it settled.
"""
import ast

from . import intrinsics
from .guard_split import NotSplit, RangeTranslator, find_guard
from .lowering import FnTranslator
from .source import assignment_counts
from .typing_rules import Val, cast


LOOPLESS_NOTE = "// lanes: no, the direct loop covers this kernel"


class NotDirect(Exception):
    """The kernel keeps the other CPU loops (the message says why)."""


def _tid_dims(fn, resolve):
    """{name: launch dimension} of the names ``tid()`` is assigned to at the top level of the
    body, each assigned nowhere else."""
    counts, dims = assignment_counts(fn), {}
    seen = set()
    for node in fn.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.value, ast.Call):
            is_tid = intrinsics.is_tid_call(node.value, resolve)
            if not is_tid:
                seen.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
                continue
            target = node.targets[0]
            names = [target] if isinstance(target, ast.Name) else list(target.elts)
            for k, n in enumerate(names):
                # A name read before this statement holds 0 there, not the launch index.
                if isinstance(n, ast.Name) and n.id not in seen:
                    dims[n.id] = k
        seen.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    params = {a.arg for a in fn.args.args}
    return {n: d for n, d in dims.items() if counts.get(n) == 1 and n not in params}


def affine_index(node, tids):
    """(dimension, constant) when ``node`` is a launch index name plus or minus a literal."""
    if isinstance(node, ast.Name) and node.id in tids:
        return tids[node.id], 0
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        left, right = node.left, node.right
        if isinstance(right, ast.Name) and isinstance(node.op, ast.Add):
            left, right = right, left
        if isinstance(left, ast.Name) and left.id in tids and \
                isinstance(right, ast.Constant) and type(right.value) is int:
            c = right.value if isinstance(node.op, ast.Add) else -right.value
            return tids[left.id], c
    return None


class DirectTranslator(FnTranslator):
    """The kernel body with its affine accesses unchecked: ``ph_d_<name>``; with ``holds`` (a
    top-level ``if``), the body where that if's test is known to hold: ``ph_dt_<name>``."""

    def __init__(self, scalar, result, cname, holds=None):
        super().__init__(scalar.unit, scalar.src, scalar.param_types, kernel=True, cname=cname)
        self.var_types = dict(scalar.var_types)
        self.fixed = dict(scalar.fixed)
        self.origins = dict(scalar.origins)
        self.dims = result.dims
        self.tids = _tid_dims(scalar.src.tree, self.resolve_object)
        self.bounds = []   # (array code, [(array dim, launch dim, constant)]) of unchecked accesses
        self.kernel_written = set(result.written)
        self.hoisted = {}  # load code -> temporary: affine loads of arrays the kernel never writes
        self.holds = holds

    def run(self):
        if self.dims is None or self.dims > 2:
            raise NotDirect("the kernel is not a 1-D or 2-D launch")
        for node in ast.walk(self.src.tree):
            if isinstance(node, (ast.For, ast.While)):
                raise NotDirect("the kernel has a loop")
        self.start_walk()
        self.stmts(self.body_statements())
        # Affine loads of read-only arrays run first, whether or not the code that reads them
        # runs: in the direct range they are in bounds, and the compiler then blends the
        # branches of an if instead of masking each load.
        self.out.lines[:0] = [f"  const {t.ctype} {tmp} = {code};"
                              for code, (tmp, t) in self.hoisted.items()]
        if not self.bounds and self.holds is None:
            raise NotDirect("no array is indexed by the launch index")
        return self.emit_function()

    def set_var_type(self, name, v, node):
        return self.var_types[name]  # settled by the scalar pass

    def stmt_If(self, node, is_elif=False):
        if node is not self.holds:
            return super().stmt_If(node, is_elif)
        self.comment(node)
        self.emit("{  // holds here (guard_split.py)")
        self.indent += 1
        self.stmts(node.body)
        self.indent -= 1
        self.emit("}")
        return None

    def call_intrinsic(self, entry, node, label):
        if entry.python is intrinsics.atomic_add:
            raise NotDirect("the kernel uses atomic_add")
        return super().call_intrinsic(entry, node, label)

    def call_func(self, func, node):
        fsrc = func._source()
        if any(isinstance(n, (ast.For, ast.While)) for n in ast.walk(fsrc.tree)):
            raise NotDirect(f"@pyhost.func {fsrc.name}() has a loop")
        v = super().call_func(func, node)
        if not v.pure:
            raise NotDirect(f"@pyhost.func {func._source().name}() writes memory")
        return v

    def direct_offset(self, arr, node):
        """C++ offset of an access whose indices are all affine in the launch index, else None."""
        if not (isinstance(node.value, ast.Name) and node.value.id in self.param_names):
            return None
        idx_nodes = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        forms = [affine_index(i, self.tids) for i in idx_nodes]
        if None in forms or len(forms) != arr.type.ndim:
            return None
        launch = ["ph_t0", "ph_t1", "ph_t2"]
        terms = [f"({launch[d]} + {c}LL)" if c else launch[d] for d, c in forms]
        off = terms[0]
        for j, term in enumerate(terms[1:], start=1):
            off = f"({off} * {arr.code}.shape[{j}] + {term})"
        self.bounds.append((arr.code, [(j, d, c) for j, (d, c) in enumerate(forms)]))
        return off

    def own_access(self, arr, node):
        """An array the kernel writes may only be read and written at each index's own element
        (``y[i]``, ``out[y, x]``): the direct loop is vectorised (``ivdep``), so one index must
        not see what another one writes (with the scalar loop it would, in index order)."""
        if not (arr.origin & self.kernel_written):
            return
        idx_nodes = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        forms = [affine_index(i, self.tids) for i in idx_nodes]
        if None in forms or any(c for _, c in forms) or \
                len({d for d, _ in forms}) != len(forms) or len(forms) != self.dims:
            raise NotDirect(f"'{self.label(node.value)}' is written and indexed by other than "
                            f"the launch index")

    def load_element(self, arr, idx, node):
        self.own_access(arr, node)
        off = self.direct_offset(arr, node)
        if off is None:
            return super().load_element(arr, idx, node)
        code = f"{arr.code}.data[{off}]"
        if arr.origin and not (arr.origin & self.kernel_written):
            if code not in self.hoisted:
                self.hoisted[code] = (f"ph_ld{len(self.hoisted) + 1}", arr.type.dtype)
            return Val(self.hoisted[code][0], arr.type.dtype, simple=True)
        return Val(code, arr.type.dtype)

    def store_element(self, arr, idx, value, node):
        self.own_access(arr, node)
        off = self.direct_offset(arr, node)
        if off is None:
            return super().store_element(arr, idx, value, node)
        self.mark_written(arr)
        self.impure = True
        self.emit(f"{arr.code}.data[{off}] = {cast(value, arr.type.dtype)};")
        return None


def row_range_code(bounds):
    """C++ that narrows [ph_lo, ph_hi) (launch index 0 of one row) and clears ph_ok (the row's
    other launch indices) so that every unchecked access stays inside its array."""
    lines, seen = [], set()
    for arr, dims in bounds:
        for j, d, c in dims:
            key = (arr, j, d, c)
            if key in seen:
                continue
            seen.add(key)
            ext = f"{arr}.shape[{j}]"
            if d == 0:
                lines.append(f"if (ph_lo < {-c}LL) ph_lo = {-c}LL;")
                lines.append(f"if (ph_hi > {ext} - {c}LL) ph_hi = {ext} - {c}LL;")
            else:
                t = f"(ph_t{d} + {c}LL)"
                lines.append(f"ph_ok = ph_ok && {t} >= 0 && {t} < {ext};")
    return lines


class DirectCode:
    """The direct body of a kernel (``code``) and its bounds, or None and why not (``note``);
    ``split``: the guard split's two functions (guard_split.py), or None."""

    def __init__(self, code, bounds, note, split=None):
        self.code = code
        self.bounds = bounds
        self.note = note
        self.split = split


def guard_split(scalar, result, base, tr):
    """(code of ph_dt_ and ph_dr_, note) for the direct translator ``tr``'s kernel."""
    def is_tid_statement(stmt):
        return isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and \
            intrinsics.is_tid_call(stmt.value, tr.resolve_object)

    guard = find_guard(tr, tr.tids, is_tid_statement)
    if guard is None:
        return None, ("// guard split: no (no top-level if tests the launch index against a "
                      "row's edges)")
    try:
        holds = DirectTranslator(scalar, result, f"ph_dt_{base}", holds=guard.node).run()
        narrow = RangeTranslator(scalar, guard, f"ph_dr_{base}").run()
    except (NotDirect, NotSplit) as exc:
        return None, f"// guard split: no ({exc})"
    return holds + "\n" + narrow, (f"// guard split: yes, the test of line "
                                   f"{scalar.src.lineno(guard.node)} is left out where it holds")


def direct_kernel(scalar, result, base):
    try:
        tr = DirectTranslator(scalar, result, f"ph_d_{base}")
        code = tr.run()
    except NotDirect as exc:
        return DirectCode(None, [], f"// direct loop: no ({exc})")
    split, split_note = guard_split(scalar, result, base, tr)
    note = ("// direct loop: yes, unchecked where the launch index keeps every affine access in "
            "bounds\n" + split_note)
    return DirectCode(code + ("\n" + split if split else ""), tr.bounds, note, split)


def direct_loop(direct, base, call, dims):
    """The entry point's loop, row by row: checked body, direct body, checked body."""
    sep = ", " if call else ""
    narrow = "\n".join("      " + line for line in row_range_code(direct.bounds))
    row = "ph_f / ph_n0" if dims == 2 else "0"
    x0 = "ph_f % ph_n0" if dims == 2 else "ph_f"
    width = "ph_n0" if dims == 2 else "ph_end"
    direct_part = f"""#pragma GCC ivdep
#pragma GCC unroll 4
      for (ph_i64 ph_t0 = ph_lo; ph_t0 < ph_hi; ++ph_t0)
        ph_d_{base}(ph_err, ph_t0, ph_t1, ph_t2{sep}{call});"""
    if direct.split:
        part = direct_part.replace("ph_lo;", "{lo};").replace("< ph_hi;", "< {hi};")
        direct_part = "\n".join([
            "      ph_i64 ph_s0 = ph_lo, ph_s1 = ph_hi;",
            f"      if (ph_lo < ph_hi) ph_dr_{base}(ph_lo, ph_t1, ph_t2{sep}{call}, &ph_s0, "
            "&ph_s1);",
            part.format(lo="ph_lo", hi="ph_s0"),
            part.format(lo="ph_s0", hi="ph_s1").replace("ph_d_", "ph_dt_"),
            part.format(lo="ph_s1", hi="ph_hi")])
    return f"""  if (PH_LANES_WANTED) {{
    while (ph_f < ph_end) {{
      const ph_i64 ph_t1 = {row}, ph_t2 = 0, ph_x0 = {x0};
      const ph_i64 ph_x1 = ph_x0 + (ph_end - ph_f < {width} - ph_x0 ? ph_end - ph_f : {width} - ph_x0);
      ph_i64 ph_lo = ph_x0, ph_hi = ph_x1;
      bool ph_ok = true;
{narrow}
      if (!ph_ok || ph_lo > ph_hi) ph_lo = ph_hi = ph_x1;
      if (ph_lo < ph_x0) ph_lo = ph_x0;
      if (ph_hi > ph_x1) ph_hi = ph_x1;
      if (ph_hi < ph_lo) ph_hi = ph_lo;
      for (ph_i64 ph_t0 = ph_x0; ph_t0 < ph_lo; ++ph_t0)
        ph_body_{base}(ph_err, ph_t0, ph_t1, ph_t2{sep}{call});
{direct_part}
      for (ph_i64 ph_t0 = ph_hi; ph_t0 < ph_x1; ++ph_t0)
        ph_body_{base}(ph_err, ph_t0, ph_t1, ph_t2{sep}{call});
      ph_f += ph_x1 - ph_x0;
    }}
  }}
"""

