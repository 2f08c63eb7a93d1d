"""The lane-batched CPU build of a kernel body (ISPC style): PH_L launch indices run together.

A second pass over the kernel's AST, after the scalar translation has settled every type, emits
the same expression text (it means lanes inside ``namespace ph_lanes``, see ``lanes_prelude.py``)
and turns control flow into masks: ``if`` runs both branches under ``mask & test`` and
``mask & !test`` (each skipped when no lane is on), ``while``/``for`` loop while any lane is on,
``break``/``continue``/``return`` switch lanes off, and an assignment under a mask keeps the old
value of the lanes that are off. A ``for`` every lane runs alike (all lanes on, ``range()`` of
literals or parameters, no ``break``/``continue``/``return`` inside) keeps one scalar counter
and needs no masks. Loads and stores of consecutive elements with every lane on move as vectors;
other accesses, atomics and anything that can fail run lane by lane on the lanes that are on,
each recording its own first error.

Lanes interleave the indices statement by statement, so a kernel is batched only where that
cannot be seen: arrays the kernel writes are indexed by the launch index itself (``y[i]``,
``out[py, px, ...]``: each lane has its own elements) or only through ``atomic_add`` whose
result is unused (integer sums commute; a float one runs once per index, in index order);
``@pyhost.func`` helpers it calls write nothing and get no written array (each one called is
translated to lanes too, ``ph_lf_<name>``, run under its caller's mask). Any other kernel keeps
the scalar loop only, and its generated source says why. As on every parallel device, arrays
passed twice (or overlapping views) are assumed not to be written through one and read
through the other.
"""
import ast
import re

from . import intrinsics
from . import types as kt
from .intrinsics import ERR_VALUE
from .lowering import FnTranslator
from .source import assignment_counts
from .typing_rules import Val, boolop_type, cast, mangle

_USES_ERR = re.compile(r"\bph_err\b")


class NotBatchable(Exception):
    """The kernel keeps the scalar loop only (the message says why)."""


def _unsafe(code):
    """Code that may fail or touch memory: it must not run for lanes that are off."""
    return bool(_USES_ERR.search(code))


def _sctype(t):
    """A kernel parameter's C++ type outside ``ph_lanes`` (where ph_f64 names lanes)."""
    if isinstance(t, kt.ArrayType):
        return f"::ph_array< ::{t.dtype.ctype}, {t.ndim}>"
    return f"::{t.ctype}"


def _has_own(body, cls):
    """Whether ``body`` has a ``cls`` statement (Continue) that belongs to this loop."""
    for stmt in body:
        for node in _walk_no_loops(stmt):
            if isinstance(node, cls):
                return True
    return False


def _walk_no_loops(node):
    yield node
    if isinstance(node, (ast.While, ast.For)):
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            yield from _walk_no_loops(child)


class _Region:
    __slots__ = ("var", "kind", "full")

    def __init__(self, var, kind, full=False):
        self.var = var      # the mask variable of the lanes that run here
        self.kind = kind    # "func" | "loop" | "iter" | "if" | "expr"
        self.full = full    # statically every lane (the body's start, before any return)


class _Access:
    __slots__ = ("origin", "kind", "index", "in_loop")

    def __init__(self, origin, kind, index, in_loop):
        self.origin, self.kind, self.index, self.in_loop = origin, kind, index, in_loop


class LaneTranslator(FnTranslator):
    """Emits ``ph_lanes::ph_lb_<name>``; raises NotBatchable where lanes could be told apart."""

    def __init__(self, scalar, result, cname, lane_funcs=None):
        super().__init__(scalar.unit, scalar.src, scalar.param_types, kernel=True, cname=cname)
        self.lane_funcs = lane_funcs if lane_funcs is not None else LaneFuncs()
        self.var_types = dict(scalar.var_types)
        self.fixed = dict(scalar.fixed)
        self.origins = dict(scalar.origins)
        self.result = result
        self.kernel_written = set(result.written)
        self.dims = result.dims
        self.tid_names = None
        self.accesses = []
        self.discarded = None
        self.mask_count = 0
        self.uniform_counters = []   # scalar counters of uniform for loops
        self.counts = assignment_counts(scalar.src.tree)

    # -- driver --------------------------------------------------------------------------------
    def run(self):
        if self.dims is None:
            raise NotBatchable("the kernel does not call pyhost.tid()")
        self.walk(full=True)
        self.check_memory()
        return self.emit_function()

    def walk(self, full):
        """Translates the body; `full`: every lane is on where it starts (a kernel's batch)."""
        for name in self.locals:
            if name not in self.param_names and isinstance(self.var_types.get(name),
                                                           kt.ArrayType):
                raise NotBatchable(f"local variable '{name}' holds an array")
        body = self.body_statements()
        self.start_walk()
        self.regions = [_Region("ph_m0", "func", full=full)]
        self.stmts(body)

    def declarations(self):
        """The C++ declarations of the locals, temporaries, masks and counters."""
        lines = []
        for name in self.locals:
            t = self.var_types.get(name)
            if name in self.param_names or t is None:
                continue
            lines.append(f"  {t.ctype} {self.cname_of(name)} = {'false' if t.is_bool else 0};")
        for tmp, t in self.tmp_decls:
            lines.append(f"  {t.ctype} {tmp};")
        if self.mask_count:
            masks = ", ".join(f"ph_m{k}" for k in range(1, self.mask_count + 1))
            lines.append(f"  ph_bool {masks};")
        for counter in self.uniform_counters:
            lines.append(f"  ::ph_i64 {counter};")
        return lines

    def emit_function(self):
        params = ["int* ph_errs", "const ph_i64& ph_t0", "const ph_i64& ph_t1",
                  "const ph_i64& ph_t2"]
        params += [f"{_sctype(t)} {self.cname_of(n)}" for n, t in
                   zip(self.param_names, self.param_types)]
        lines = [f"// lanes of @pyhost.kernel {self.src.name}: PH_L indices per call",
                 f"static inline void {self.cname}({', '.join(params)}) {{",
                 "  ph_bool ph_m0 = true;",
                 "  const ph_ctx ph_err = {ph_errs, &ph_m0};"]
        lines += self.declarations()
        lines.extend(self.out.lines)
        lines.append("}")
        return "\n".join(lines)

    @staticmethod
    def cname_of(name):
        return mangle(name)

    def set_var_type(self, name, v, node):
        return self.var_types[name]  # settled by the scalar pass

    # -- masks ---------------------------------------------------------------------------------
    @property
    def region(self):
        return self.regions[-1]

    def new_mask(self):
        self.mask_count += 1
        return f"ph_m{self.mask_count}"

    def enter(self, var, kind):
        """A region whose lanes are `var`: a C++ block opened by the caller."""
        self.regions.append(_Region(var, kind))
        self.emit(f"const ph_ctx ph_err = {{ph_errs, &{var}}};")

    def leave(self):
        self.regions.pop()

    def switch_off(self, kind):
        """break / continue / return: the lanes here leave every region up to `kind`."""
        top = self.region
        if top.kind != kind:
            for r in reversed(self.regions[:-1]):
                self.emit(f"{r.var} = {r.var} & !{top.var};")
                if r.kind == kind:
                    break
        self.emit(f"{top.var} = false;")

    def assign_var(self, name, t, value):
        code = cast(value, t)
        var = self.cname_of(name)
        if self.region.full:
            self.emit(f"{var} = {code};")
        else:
            self.emit(f"{var} = ph_sel({self.region.var}, {t.ctype}({code}), {var});")

    # -- statements ----------------------------------------------------------------------------
    def stmts(self, body):
        for stmt in body:
            self.stmt(stmt)
            if isinstance(stmt, (ast.Break, ast.Continue, ast.Return)):
                break  # the rest of the block runs for no lane

    def stmt_Break(self, node):
        self.switch_off("loop")

    def stmt_Continue(self, node):
        self.switch_off("iter")

    def stmt_Return(self, node):
        self.switch_off("func")
        self.regions[0].full = False

    def stmt_Expr(self, node):
        self.discarded = node.value
        try:
            super().stmt_Expr(node)
        finally:
            self.discarded = None

    def stmt_Assign(self, node):
        self.note_tid(node)
        super().stmt_Assign(node)

    def note_tid(self, node):
        v = node.value
        if not (isinstance(v, ast.Call) and len(node.targets) == 1):
            return
        if isinstance(v.func, ast.Name) and v.func.id in self.local_set:
            return
        if not intrinsics.is_tid_call(v, self.resolve_object):
            return
        t = node.targets[0]
        elts = [t] if isinstance(t, ast.Name) else list(getattr(t, "elts", []))
        names = tuple(e.id for e in elts if isinstance(e, ast.Name))
        # tid() assigned twice, or not to plain names: no index is provably the lane's own.
        self.tid_names = () if self.tid_names is not None or len(names) != len(elts) else names

    def assign(self, target, value, node):
        if isinstance(target, ast.Name) and value.type is not None and \
                target.id in self.local_set:
            self.assign_var(target.id, self.var_types[target.id], value)
            return
        super().assign(target, value, node)

    def stmt_If(self, node, is_elif=False):
        self.comment(node)
        outer = self.region.var
        test = self.expr(node.test)
        cond = self.new_mask()
        self.emit(f"{cond} = {self.cond_code(test, node.test)};")
        for body, neg in ((node.body, ""), (node.orelse, "!")):
            if not body:
                continue
            m = self.new_mask()
            self.emit(f"{m} = {outer} & {neg}{cond};")
            self.emit(f"if (ph_any({m})) {{")
            self.indent += 1
            self.enter(m, "if")
            self.stmts(body)
            self.leave()
            self.indent -= 1
            self.emit("}")

    def loop_head(self, mask, test_code):
        self.emit(f"{mask} = {mask} & {test_code};")
        self.emit(f"if (!ph_any({mask})) break;")

    def loop_body(self, body, head=None):
        """The body under the loop's mask, or under an iteration mask that `continue` clears."""
        self.loop_depth += 1
        if _has_own(body, ast.Continue):
            it = self.new_mask()
            self.emit(f"{it} = {self.region.var};")
            self.emit("{")
            self.indent += 1
            self.enter(it, "iter")
            if head:
                head()
            self.stmts(body)
            self.leave()
            self.indent -= 1
            self.emit("}")
        else:
            if head:
                head()
            self.stmts(body)
        self.loop_depth -= 1

    def stmt_While(self, node):
        self.comment(node)
        w = self.new_mask()
        self.emit(f"{w} = {self.region.var};")
        self.emit("for (;;) {")
        self.indent += 1
        self.enter(w, "loop")
        test = self.expr(node.test)
        self.loop_head(w, self.cond_code(test, node.test))
        self.loop_body(node.body)
        self.leave()
        self.indent -= 1
        self.emit("}")

    def stmt_For(self, node):
        self.comment(node)
        call = node.iter
        start, stop, step = self.range_bounds([self.expr(a) for a in call.args])
        name = node.target.id
        t = self.var_types[name]
        if self.uniform_loop(node):
            self.uniform_for(node, name, t, start, stop, step)
            return
        counter = self.new_tmp(kt.i64)
        lo, hi, st = (cast(a, kt.i64) for a in (start, stop, step))
        if step.const is not None:
            cond = f"({counter} < {hi})" if step.const > 0 else f"({counter} > {hi})"
        else:
            sid = self.site(call, ERR_VALUE, "range() arg 3 must not be zero")
            self.emit(f"ph_failif(ph_err, {st} == 0, {sid});")
            cond = f"ph_sel({st} > 0, {counter} < {hi}, {counter} > {hi})"
        self.emit(f"{counter} = {lo};")
        w = self.new_mask()
        self.emit(f"{w} = {self.region.var};")
        self.emit("for (;;) {")
        self.indent += 1
        self.enter(w, "loop")
        self.loop_head(w, cond)
        self.loop_body(node.body,
                       lambda: self.assign_var(name, t, Val(counter, kt.i64, simple=True)))
        self.emit(f"{counter} = {counter} + {st};")
        self.leave()
        self.indent -= 1
        self.emit("}")

    def uniform_loop(self, node):
        """Every lane runs this for loop the same number of times: all lanes are on where it
        starts, its range() arguments are literals or parameters (never assigned), and nothing
        in its body leaves it early (break, continue, return)."""
        if not self.region.full:
            return False
        for a in node.iter.args:
            if isinstance(a, ast.Constant):
                continue
            if not isinstance(a, ast.Name) or self.counts.get(a.id, 0):
                return False
            if a.id in self.local_set and (a.id not in self.param_names or
                                           not isinstance(self.var_types.get(a.id), kt.ScalarType)):
                return False
        for stmt in node.body:
            if any(isinstance(n, (ast.Break, ast.Continue)) for n in _walk_no_loops(stmt)):
                return False
            if any(isinstance(n, ast.Return) for n in ast.walk(stmt)):
                return False
        return True

    def uniform_for(self, node, name, t, start, stop, step):
        """A uniform loop: one scalar counter, and its body is a full region (assignments need
        no mask)."""
        counter = f"ph_u{len(self.uniform_counters) + 1}"
        self.uniform_counters.append(counter)
        lo, hi, st = (f"((::ph_i64){a.code})" if a.const is None else cast(a, kt.i64)
                      for a in (start, stop, step))
        if step.const is not None:
            cond = f"{counter} < {hi}" if step.const > 0 else f"{counter} > {hi}"
        else:
            sid = self.site(node.iter, ERR_VALUE, "range() arg 3 must not be zero")
            self.emit(f"ph_failif(ph_err, ph_bool({st} == 0), {sid});")
            cond = f"({st} > 0 ? {counter} < {hi} : {counter} > {hi})"
        w = self.new_mask()
        self.emit(f"{w} = {self.region.var};")
        self.emit(f"for ({counter} = {lo}; {cond}; {counter} += {st}) {{")
        self.indent += 1
        self.enter(w, "loop")
        self.region.full = True
        self.loop_depth += 1
        self.assign_var(name, t, Val(counter, kt.i64, simple=True))
        self.stmts(node.body)
        self.loop_depth -= 1
        self.leave()
        self.indent -= 1
        self.emit("}")

    # -- expressions with their own control flow -----------------------------------------------
    def masked_block(self, mask, lines, result_line):
        self.emit(f"if (ph_any({mask})) {{")
        self.emit(f"  const ph_ctx ph_err = {{ph_errs, &{mask}}};")
        self.splice(lines, 1)
        self.emit(f"  {result_line}")
        self.emit("}")

    def capture_in(self, mask, fn):
        """Translate fn() as run by the lanes of `mask` (nested regions refer to it)."""
        self.regions.append(_Region(mask, "expr"))
        try:
            return self.capture(fn)
        finally:
            self.regions.pop()

    def boolop(self, is_and, left, rnode, node):
        outer = self.region.var
        m = self.new_mask()
        right, lines = self.capture_in(m, lambda: self.expr(rnode))
        for v, n in ((left, node), (right, rnode)):
            if not isinstance(v.type, kt.ScalarType):
                raise self.err(f"a {v.type} cannot be an operand of and/or", n)
        safe = not lines and not _unsafe(right.code)
        if safe and left.type.is_bool and right.type.is_bool:
            sym = "&&" if is_and else "||"  # both sides evaluated: nothing there can fail
            return Val(f"({left.code} {sym} {right.code})", kt.boolean,
                       pure=left.pure and right.pure)
        t = boolop_type(left, right)
        tmp = self.new_tmp(t)
        self.emit(f"{tmp} = {cast(left, t)};")
        test = self.cond_code(Val(tmp, t), node)
        taken = test if is_and else f"!{test}"
        rhs = f"{t.ctype}({cast(right, t)})"
        if safe:
            return Val(f"ph_sel({taken}, {rhs}, {tmp})", t)
        self.emit(f"{m} = {outer} & {taken};")
        self.masked_block(m, lines, f"{tmp} = ph_sel({m}, {rhs}, {tmp});")
        return Val(tmp, t, simple=True)

    def expr_IfExp(self, node):
        outer = self.region.var
        test = self.expr(node.test)
        cond = self.new_mask()
        self.emit(f"{cond} = {self.cond_code(test, node.test)};")
        mb, mo = self.new_mask(), self.new_mask()
        body, l1 = self.capture_in(mb, lambda: self.expr(node.body))
        orelse, l2 = self.capture_in(mo, lambda: self.expr(node.orelse))
        t = self.conditional_type(body, orelse, node)
        b, o = f"{t.ctype}({cast(body, t)})", f"{t.ctype}({cast(orelse, t)})"
        if not l1 and not l2 and not _unsafe(b) and not _unsafe(o):
            return Val(f"ph_sel({cond}, {b}, {o})", t)
        tmp = self.new_tmp(t)
        self.emit(f"{mb} = {outer} & {cond};")
        self.masked_block(mb, l1, f"{tmp} = ph_sel({mb}, {b}, {tmp});")
        self.emit(f"{mo} = {outer} & !{cond};")
        self.masked_block(mo, l2, f"{tmp} = ph_sel({mo}, {o}, {tmp});")
        return Val(tmp, t, simple=True)

    def expr_Compare(self, node):
        if len(node.ops) == 1:
            return super().expr_Compare(node)
        ops = [type(o) for o in node.ops]
        operands = [node.left] + list(node.comparators)
        outer = self.region.var
        first = self.expr(operands[0])
        probe = self.new_mask()
        rest = [self.capture_in(probe, lambda o=o: self.expr(o)) for o in operands[1:]]
        if all(isinstance(o, (ast.Name, ast.Constant)) for o in operands[1:-1]) and \
                first.pure and all(v.pure and not lines and not _unsafe(v.code)
                                   for v, lines in rest):
            parts, prev = [], first
            for op, (v, _) in zip(ops, rest):
                parts.append(self.compare(op, prev, v, node))
                prev = v
            return Val("(" + " && ".join(parts) + ")", kt.boolean)
        # a < b < c: b always, c only on the lanes where a < b held.
        res = self.new_tmp(kt.boolean)
        prev = first if first.simple or first.const is not None else self.force_tmp(first)
        for k, (op, onode) in enumerate(zip(ops, operands[1:])):
            last = k == len(ops) - 1
            if k == 0:
                v = self.expr(onode)
                if not last and not v.simple:
                    v = self.force_tmp(v)
                self.emit(f"{res} = {self.compare(op, prev, v, node)};")
            else:
                m = self.new_mask()
                self.emit(f"{m} = {outer} & {res};")
                self.emit(f"if (ph_any({m})) {{")
                self.indent += 1
                self.enter(m, "expr")
                v = self.expr(onode)
                if not last and not v.simple:
                    v = self.force_tmp(v)
                self.emit(f"{res} = {res} & {self.compare(op, prev, v, node)};")
                self.leave()
                self.indent -= 1
                self.emit("}")
            prev = v
        return Val(res, kt.boolean, simple=True)

    # -- memory --------------------------------------------------------------------------------
    def record(self, origin, kind, index):
        self.accesses.append(_Access(origin, kind, index, self.loop_depth > 0))

    def load_element(self, arr, idx, node):
        self.record(arr.origin, "load", node.slice)
        return super().load_element(arr, idx, node)

    def store_element(self, arr, idx, value, node):
        self.record(arr.origin, "store", node.slice)
        super().store_element(arr, idx, value, node)

    def call_intrinsic(self, entry, node, label):
        if entry.python is not intrinsics.atomic_add:
            return super().call_intrinsic(entry, node, label)
        if node is not self.discarded:
            raise NotBatchable("the value atomic_add returns is used (it depends on the order "
                               "of the indices)")
        v = super().call_intrinsic(entry, node, label)
        a = node.args[0]
        origin = self.origins.get(a.id, frozenset()) if isinstance(a, ast.Name) else None
        if origin is None:
            raise NotBatchable("atomic_add on an array that is not a parameter")
        self.record(origin, "atomic", None)
        return v

    def call_func(self, func, node):
        name = func._source().name
        for a in node.args:
            if isinstance(a, ast.Name) and a.id in self.local_set and \
                    self.origins.get(a.id, frozenset()) & self.kernel_written:
                raise NotBatchable(f"array '{a.id}', which the kernel writes, is passed to "
                                   f"@pyhost.func {name}()")
        v = super().call_func(func, node)
        if not v.pure:
            raise NotBatchable(f"@pyhost.func {name}() writes memory")
        # The scalar call is "<cname>(ph_err, args...)": call the func's lanes instead, under
        # the lanes on here.
        cname = v.code.split("(", 1)[0]
        key = next(k for k, spec in self.unit.specs.items() if spec.cname == cname)
        lane_name = self.lane_funcs.get(key, self.unit.specs[key])
        args = v.code[len(cname) + len("(ph_err"):]
        return Val(f"{lane_name}(ph_errs, {self.region.var}{args}", v.type)

    def own_index(self, index):
        """The launch index names at the head of a subscript (each lane's own elements)."""
        tids = self.tid_names
        if not tids or self.dims != len(tids):
            return None
        if any(self.counts.get(n, 0) != 1 for n in tids):
            return None
        nodes = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        head = nodes[:len(tids)]
        if len(head) < len(tids) or not all(isinstance(n, ast.Name) for n in head):
            return None
        ids = tuple(n.id for n in head)
        return ids if sorted(ids) == sorted(tids) else None

    def check_memory(self):
        for p in sorted(self.kernel_written):
            name = self.param_names[p]
            mine = [a for a in self.accesses if p in a.origin]
            atomics = [a for a in mine if a.kind == "atomic"]
            plain = [a for a in mine if a.kind != "atomic"]
            if atomics and plain:
                raise NotBatchable(f"'{name}' is updated with atomic_add and also indexed")
            if plain:
                keys = {self.own_index(a.index) for a in plain}
                if None in keys or len(keys) != 1:
                    own = ", ".join(self.tid_names or ("i",))
                    raise NotBatchable(f"'{name}' is written and indexed by other than the "
                                       f"launch index alone ({name}[{own}, ...])")
            if atomics and self.param_types[p].dtype.is_float and \
                    (len(atomics) > 1 or atomics[0].in_loop):
                raise NotBatchable(f"the float atomic_add on '{name}' may run more than once "
                                   f"per index (lanes would change the order of its roundings)")


class LaneFuncs:
    """The lanes of the @pyhost.func specializations a kernel calls, translated once each; their
    code in callee-first order."""

    def __init__(self):
        self.names = {}
        self.code = []

    def get(self, key, spec):
        name = f"ph_lf_{spec.cname}"
        if key not in self.names:
            self.names[key] = name  # set first: recursion was refused by the scalar pass
            self.code.append(LaneFuncTranslator(spec, self).run())
        return name


class LaneFuncTranslator(LaneTranslator):
    """A @pyhost.func as lanes: ``ph_lf_<name>(errors, mask, arguments as lanes)`` runs under its
    caller's mask; a ``return`` keeps its value for the lanes still on, then switches them off."""

    def __init__(self, spec, lane_funcs):
        super().__init__(spec.translator, spec, f"ph_lf_{spec.cname}", lane_funcs)
        self.kernel = False
        self.ret_type = spec.ret_type

    def run(self):
        self.walk(full=False)
        return self.emit_function()

    def stmt_Return(self, node):
        if node.value is not None and self.ret_type is not None:
            v = self.expr(node.value)
            code = f"{self.ret_type.ctype}({cast(v, self.ret_type)})"
            self.emit(f"ph_ret = ph_sel({self.region.var}, {code}, ph_ret);")
        self.switch_off("func")
        self.regions[0].full = False

    def emit_function(self):
        params = ["int* ph_errs", "const ph_bool& ph_in"]
        params += [f"{_sctype(t) if isinstance(t, kt.ArrayType) else t.ctype} "
                   f"{self.cname_of(n)}" for n, t in zip(self.param_names, self.param_types)]
        rt = self.ret_type.ctype if self.ret_type is not None else "void"
        lines = [f"// lanes of @pyhost.func {self.src.name}, under the caller's mask",
                 f"static inline {rt} {self.cname}({', '.join(params)}) {{",
                 "  ph_bool ph_m0 = ph_in;",
                 "  const ph_ctx ph_err = {ph_errs, &ph_m0};"]
        if self.ret_type is not None:
            lines.append(f"  {rt} ph_ret = {'false' if self.ret_type.is_bool else 0};")
        lines += self.declarations()
        lines.extend(self.out.lines)
        if self.ret_type is not None:
            lines.append("  return ph_ret;")
        lines.append("}")
        return "\n".join(lines)


class LaneCode:
    """The lane-batched body of a kernel (``code``), or None and why not (``note``)."""

    def __init__(self, code, note):
        self.code = code
        self.note = note


def lane_kernel(scalar, result, base):
    """Lane body of a kernel whose scalar translation `scalar` gave `result`."""
    funcs = LaneFuncs()
    try:
        body = LaneTranslator(scalar, result, f"ph_lb_{base}", funcs).run()
    except NotBatchable as exc:
        return LaneCode(None, f"// lanes: no, the CPU runs one index at a time: {exc}")
    code = "\n".join(["#if PH_LANES_ON", "namespace ph_lanes {"] + funcs.code +
                     [body, "}  // namespace ph_lanes", "#endif"])
    return LaneCode(code, "// lanes: yes, the CPU runs PH_L indices at once (masked)")


def cpu_batch_loop(lane, base, call, dims):
    """The entry point's loop over whole batches, before the scalar loop takes the rest."""
    if lane.code is None:
        return ""
    sep = ", " if call else ""
    return f"""#if PH_LANES_ON
  for (; ph_f <= ph_end - PH_L; ph_f += PH_L) {{
    ph_lanes::ph_i64 ph_x, ph_y, ph_z;
    ph_lanes::ph_tids(ph_f, ph_n0, ph_n1, {dims}, ph_x, ph_y, ph_z);
    int ph_errs[PH_L] = {{0}};
    ph_lanes::ph_lb_{base}(ph_errs, ph_x, ph_y, ph_z{sep}{call});
    ph_lanes::ph_merge(ph_err, ph_errs);
  }}
#endif
"""
