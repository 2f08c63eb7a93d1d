"""Lowering of expressions (part of ``lowering.FnTranslator``): names, constants, arithmetic
with Python's semantics, comparisons, and/or, conditional expressions, subscripts, calls (to
@pyhost.func helpers and to the intrinsics table)."""
import ast

from . import intrinsics
from . import types as kt
from .intrinsics import ERR_INDEX, ERR_VALUE, ERR_ZERODIV
from .syntax import _BINOP_SYMBOL, _CMP_SYMBOL, _constant_construct, _construct_name
from .typing_rules import (TupleT, Val, _promote_small, _tname, arith_type, boolop_type, cast,
                           render_const)


_HELPERS = {}   # python function -> its core.Func
# core.Func, set by core.py when it is imported (core imports this module, not the reverse)
HELPER_CLASS = None
# functions of these packages are not the user's helpers (np.linspace is a Python function)
_LIBRARY_MODULES = {"numpy", "numba", "math", "builtins", "pyhost", "scipy"}


def _plain_helper(obj):
    """A plain Python function, or a Numba ``@jit`` dispatcher (its ``py_func``), called from a
    kernel: translated as a ``@pyhost.func`` (Numba compiles such helpers for the GPU too)."""
    import types
    py = obj if isinstance(obj, types.FunctionType) else getattr(obj, "py_func", None)
    if not isinstance(py, types.FunctionType) or HELPER_CLASS is None or \
            (py.__module__ or "").split(".")[0] in _LIBRARY_MODULES:
        return None
    func = _HELPERS.get(py)
    if func is None:
        func = _HELPERS[py] = HELPER_CLASS(py)
    return func


class ExpressionLowering:
    """Expression methods of FnTranslator (which holds the state they use)."""

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, node):
        method = getattr(self, f"expr_{type(node).__name__}", None)
        if method is None:
            raise self.src.reject(_construct_name(node), node)
        return method(node)

    def expr_Constant(self, node):
        value = node.value
        if isinstance(value, (bool, int, float)):
            return self.object_value(value, node)
        raise self.src.reject(_constant_construct(value), node)

    def expr_Name(self, node):
        return self.load_name(node)

    def expr_Tuple(self, node):
        elts = [self.expr(e) for e in node.elts]
        if not all(e.pure for e in elts):
            elts = [self.force_tmp(e) for e in elts]
        return Val(None, TupleT([e.type for e in elts]), elts=elts,
                   pure=all(e.pure for e in elts))

    def expr_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in self.local_set:
            base = self.load_name(node.value)
            if isinstance(base.type, kt.ArrayType):
                if node.attr == "shape":
                    elts = [Val(f"{base.code}.shape[{k}]", kt.i64, simple=True)
                            for k in range(base.type.ndim)]
                    return Val(None, TupleT([kt.i64] * base.type.ndim), elts=elts)
                if node.attr == "ndim":
                    return self.object_value(base.type.ndim, node)
                if node.attr == "size":
                    return Val("(" + " * ".join(f"{base.code}.shape[{k}]"
                                                for k in range(base.type.ndim)) + ")", kt.i64)
            raise self.err(f"attribute '{node.attr}' of a {_tname(base.type)} is not supported "
                           "(arrays have .shape)", node, "attribute access")
        obj = self.resolve_object(node)
        return self.object_value(obj, node)

    def subscript_parts(self, node):
        arr = self.expr(node.value)
        if not isinstance(arr.type, kt.ArrayType):
            raise self.err(f"'{ast.unparse(node.value)}' is a {_tname(arr.type)}, not an array",
                           node, "subscript")
        sl = node.slice
        idx_nodes = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if any(isinstance(i, ast.Slice) for i in idx_nodes):
            raise self.src.reject("slicing", node)
        if len(idx_nodes) != arr.type.ndim:
            raise self.err(f"'{ast.unparse(node.value)}' has {arr.type.ndim} dimension(s) and "
                           f"needs {arr.type.ndim} index(es), got {len(idx_nodes)}", node,
                           "subscript")
        idx = [self.expr(i) for i in idx_nodes]
        for i, inode in zip(idx, idx_nodes):
            if not isinstance(i.type, kt.ScalarType) or not (i.type.is_int or i.type.is_bool):
                raise self.err(f"array indices must be integers, not {_tname(i.type)}", inode,
                               "non-integer index")
        if not all(i.pure for i in idx):
            idx = [self.force_tmp(i) for i in idx]
        return arr, idx

    def load_element(self, arr, idx, node):
        sid = self.site(node, ERR_INDEX, f"index out of range for '{ast.unparse(node.value)}'")
        args = ", ".join(cast(i, kt.i64) if i.const is not None else i.code for i in idx)
        return Val(f"ph_ld({arr.code}, {sid}, ph_err, {args})", arr.type.dtype)

    def store_element(self, arr, idx, value, node):
        self.mark_written(arr)
        self.impure = True
        sid = self.site(node, ERR_INDEX, f"index out of range for '{ast.unparse(node.value)}'")
        args = ", ".join(cast(i, kt.i64) if i.const is not None else i.code for i in idx)
        self.emit(f"ph_st({arr.code}, {sid}, ph_err, {cast(value, arr.type.dtype)}, {args});")

    def mark_written(self, arr):
        new = set(arr.origin) - self.written
        if new:
            self.written |= new
            self.changed = True

    def expr_Subscript(self, node):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape" or \
                not isinstance(node.value, (ast.Name, ast.Attribute)) or \
                self._is_global_tuple(node.value):
            base = self.expr(node.value)
            if isinstance(base.type, TupleT):
                if not (isinstance(node.slice, ast.Constant) and
                        isinstance(node.slice.value, int)):
                    raise self.err("tuples can only be indexed by a constant", node)
                k = node.slice.value
                if not -len(base.elts) <= k < len(base.elts):
                    raise self.err("tuple index out of range", node)
                return base.elts[k]
        arr, idx = self.subscript_parts(node)
        return self.load_element(arr, idx, node)

    def _is_global_tuple(self, node):
        """``COEFFS[1]`` with COEFFS a module-level tuple of numbers."""
        if isinstance(node, ast.Name) and node.id in self.local_set:
            return False
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in self.local_set:
            return False
        try:
            return isinstance(self.resolve_object(node), tuple)
        except Exception:  # noqa: BLE001 - not a global: the usual error comes later
            return False

    def expr_UnaryOp(self, node):
        v = self.expr(node.operand)
        if isinstance(v.type, (TupleT, kt.ArrayType)) or v.type is None:
            raise self.err(f"bad operand type for unary operator: {_tname(v.type)}", node)
        op = type(node.op)
        if op is ast.Not:
            return Val(f"(!{self.cond_code(v, node)})", kt.boolean, pure=v.pure)
        if op is ast.UAdd:
            t = _promote_small(v.type)
            return Val(cast(v, t), t, pure=v.pure, weak=v.weak, const=v.const, simple=v.simple)
        if op is ast.USub:
            if v.const is not None:
                return self.object_value(-v.const if not isinstance(v.const, bool)
                                         else -int(v.const), node)
            t = _promote_small(v.type)
            code = cast(v, t)
            if t.kind == "u":
                return Val(f"(({t.ctype})(0u - {code}))", t, pure=v.pure)
            return Val(f"(-{code})", t, pure=v.pure)
        if op is ast.Invert:
            if not (v.type.is_int or v.type.is_bool):
                raise self.err(f"bad operand type for unary ~: '{_tname(v.type)}'", node)
            if v.const is not None:
                return self.object_value(~int(v.const), node)
            t = _promote_small(v.type)
            return Val(f"(({t.ctype})~{cast(v, t)})", t, pure=v.pure)
        raise self.src.reject(_construct_name(node.op), node)

    def expr_BinOp(self, node):
        left = self.expr(node.left)
        right = self.expr(node.right)
        if not (left.pure and right.pure):
            left, right = self.force_tmp(left), self.force_tmp(right)
        return self.binop(type(node.op), left, right, node)

    def binop(self, op, a, b, node):
        sym = _BINOP_SYMBOL.get(op)
        if sym is None:
            raise self.src.reject(_construct_name(op()), node)
        for v in (a, b):
            if not isinstance(v.type, kt.ScalarType):
                raise self.err(f"unsupported operand types for {sym}: {_tname(a.type)} and "
                               f"{_tname(b.type)}", node, "operand types")
        pure = a.pure and b.pure
        t, weak = arith_type(a, b)
        if a.const is not None and b.const is not None:
            folded = self.fold(op, a.const, b.const)
            if folded is not None:
                return self.object_value(folded, node)
        if op in (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift):
            if t.is_float:
                raise self.err(f"unsupported operand types for {sym}: {_tname(a.type)} and "
                               f"{_tname(b.type)}", node, "operand types")
            if op in (ast.BitAnd, ast.BitOr, ast.BitXor) and a.type.is_bool and b.type.is_bool:
                return Val(f"({a.code} {sym} {b.code})", kt.boolean, pure=pure)
            if op in (ast.LShift, ast.RShift):
                t = _promote_small(a.type) if not a.weak else t
                helper = "ph_shl" if op is ast.LShift else "ph_shr"
                sid = self.site(node, ERR_VALUE, "negative shift count")
                return Val(f"{helper}({cast(a, t)}, {cast(b, kt.i64)}, {sid}, ph_err)", t,
                           pure=pure, weak=weak)
            return Val(f"({cast(a, t)} {sym} {cast(b, t)})", t, pure=pure, weak=weak)
        if op is ast.Div:
            if not t.is_float:
                t = kt.f64
            if (b.const is not None and b.const != 0) or self.unit.error_model == "numpy":
                return Val(f"({cast(a, t)} / {cast(b, t)})", t, pure=pure, weak=weak)
            sid = self.site(node, ERR_ZERODIV, "division by zero")
            return Val(f"ph_div({cast(a, t)}, {cast(b, t)}, {sid}, ph_err)", t, pure=pure,
                       weak=weak)
        if op in (ast.FloorDiv, ast.Mod):
            what = "integer division or modulo by zero" if not t.is_float else (
                "float floor division by zero" if op is ast.FloorDiv else "float modulo")
            sid = self.site(node, ERR_ZERODIV, what)
            kind = "floordiv" if op is ast.FloorDiv else "mod"
            helper = f"ph_{kind}_{'f' if t.is_float else 'i'}"
            return Val(f"{helper}({cast(a, t)}, {cast(b, t)}, {sid}, ph_err)", t, pure=pure,
                       weak=weak)
        if op is ast.Pow:
            if t.is_float:
                return Val(f"ph_pow({cast(a, t)}, {cast(b, t)})", t, pure=pure, weak=weak)
            if b.const is not None and b.const < 0:
                t = kt.f64
                return Val(f"ph_pow({cast(a, t)}, {cast(b, t)})", t, pure=pure)
            sid = self.site(node, ERR_VALUE, "integer ** negative integer (Python gives a "
                                             "float; convert the base with float())")
            return Val(f"ph_ipow({cast(a, t)}, {cast(b, t)}, {sid}, ph_err)", t, pure=pure,
                       weak=weak)
        return Val(f"({cast(a, t)} {sym} {cast(b, t)})", t, pure=pure, weak=weak)

    @staticmethod
    def fold(op, x, y):
        try:
            if op is ast.Add:
                r = x + y
            elif op is ast.Sub:
                r = x - y
            elif op is ast.Mult:
                r = x * y
            elif op is ast.Div:
                r = x / y
            elif op is ast.FloorDiv:
                r = x // y
            elif op is ast.Mod:
                r = x % y
            elif op is ast.Pow:
                if isinstance(x, int) and isinstance(y, int) and y > 64:
                    return None
                r = x ** y
            else:
                return None
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        if isinstance(r, bool):
            r = int(r)
        if isinstance(r, int) and not -(1 << 63) <= r < (1 << 63):
            return None
        if not isinstance(r, (int, float)):
            return None
        return r

    def expr_BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        left = self.expr(node.values[0])
        for rnode in node.values[1:]:
            left = self.boolop(is_and, left, rnode, node)
        return left

    def boolop(self, is_and, left, rnode, node):
        (right, lines) = self.capture(lambda: self.expr(rnode))
        for v, n in ((left, node), (right, rnode)):
            if not isinstance(v.type, kt.ScalarType):
                raise self.err(f"a {_tname(v.type)} cannot be an operand of and/or", n)
        if not lines and left.type.is_bool and right.type.is_bool:
            sym = "&&" if is_and else "||"
            return Val(f"({left.code} {sym} {right.code})", kt.boolean,
                       pure=left.pure and right.pure)
        t = boolop_type(left, right)
        tmp = self.new_tmp(t)
        self.emit(f"{tmp} = {cast(left, t)};")
        test = self.cond_code(Val(tmp, t), node)
        self.emit(f"if ({test if is_and else '!' + test}) {{")
        self.splice(lines, 1)
        self.emit(f"  {tmp} = {cast(right, t)};")
        self.emit("}")
        return Val(tmp, t, simple=True)

    def conditional_type(self, body, orelse, node):
        """The type of `body if test else orelse`: bool when both are, else arithmetic's rule."""
        for v, n in ((body, node.body), (orelse, node.orelse)):
            if not isinstance(v.type, kt.ScalarType):
                raise self.err(f"conditional expressions give numbers, not {_tname(v.type)}", n)
        if body.type.is_bool and orelse.type.is_bool:
            return kt.boolean
        return arith_type(body, orelse)[0]

    def expr_IfExp(self, node):
        test = self.expr(node.test)
        (body, l1) = self.capture(lambda: self.expr(node.body))
        (orelse, l2) = self.capture(lambda: self.expr(node.orelse))
        t = self.conditional_type(body, orelse, node)
        cond = self.cond_code(test, node.test)
        if not l1 and not l2:
            return Val(f"({cond} ? {cast(body, t)} : {cast(orelse, t)})", t,
                       pure=test.pure and body.pure and orelse.pure,
                       weak=body.weak and orelse.weak)
        tmp = self.new_tmp(t)
        self.emit(f"if ({cond}) {{")
        self.splice(l1, 1)
        self.emit(f"  {tmp} = {cast(body, t)};")
        self.emit("} else {")
        self.splice(l2, 1)
        self.emit(f"  {tmp} = {cast(orelse, t)};")
        self.emit("}")
        return Val(tmp, t, simple=True)

    def compare(self, op, a, b, node):
        for v in (a, b):
            if not isinstance(v.type, kt.ScalarType):
                raise self.err(f"cannot compare {_tname(a.type)} and {_tname(b.type)}", node,
                               "comparison")
        if a.type.is_bool and b.type.is_bool:
            t = kt.boolean
        else:
            t, _ = arith_type(a, b)
        return f"({cast(a, t)} {_CMP_SYMBOL[op]} {cast(b, t)})"

    def expr_Compare(self, node):
        operands = [node.left] + list(node.comparators)
        ops = [type(o) for o in node.ops]
        if len(ops) == 1:
            a = self.expr(node.left)
            b = self.expr(node.comparators[0])
            if not (a.pure and b.pure):
                a, b = self.force_tmp(a), self.force_tmp(b)
            return Val(self.compare(ops[0], a, b, node), kt.boolean, pure=a.pure and b.pure)
        # Chained: a < b < c is (a < b) and (b < c) with b evaluated once, c only if needed.
        simple = all(isinstance(o, (ast.Name, ast.Constant)) for o in operands[1:-1])
        first = self.expr(operands[0])
        rest = []
        all_lines = False
        for o in operands[1:]:
            (v, lines) = self.capture(lambda o=o: self.expr(o))
            rest.append((v, lines))
            all_lines = all_lines or bool(lines)
        if simple and not all_lines and first.pure and all(v.pure for v, _ in rest):
            parts = []
            prev = first
            for op, (v, _) in zip(ops, rest):
                parts.append(self.compare(op, prev, v, node))
                prev = v
            return Val("(" + " && ".join(parts) + ")", kt.boolean)
        tmp = self.new_tmp(kt.boolean)
        prev = self.force_tmp(first) if not first.simple else first
        self.emit(f"{tmp} = false;")
        depth = 0
        for k, (op, onode) in enumerate(zip(ops, operands[1:])):
            (v, lines) = self.capture(lambda o=onode: self.expr(o))
            self.splice(lines, depth)
            if k < len(ops) - 1 and not v.simple:
                saved = self.indent
                self.indent += depth
                v = self.force_tmp(v)
                self.indent = saved
            self.out.lines.append("  " * (self.indent + depth) +
                                  f"{tmp} = {self.compare(op, prev, v, node)};")
            if k < len(ops) - 1:
                self.out.lines.append("  " * (self.indent + depth) + f"if ({tmp}) {{")
                depth += 1
            prev = v
        for d in range(depth, 0, -1):
            self.out.lines.append("  " * (self.indent + d - 1) + "}")
        return Val(tmp, kt.boolean, simple=True)

    # -- calls ---------------------------------------------------------------------------------
    def expr_Call(self, node):
        fnode = node.func
        if isinstance(fnode, ast.Name) and fnode.id in self.local_set:
            raise self.err(f"'{fnode.id}' is a local variable, not a function", node)
        if isinstance(fnode, ast.Attribute) and isinstance(fnode.value, ast.Name) and \
                fnode.value.id in self.local_set:
            raise self.src.reject(f"method call .{fnode.attr}()", node)
        obj = self.resolve_object(fnode)
        label = ast.unparse(fnode)
        role = getattr(obj, "_kernel_role", None)  # core.Func / core.Kernel (no import: core
        if role == "func":                          # imports this module)
            return self.call_func(obj, node)
        if role == "kernel":
            raise self.src.reject("calling a kernel from a kernel", node,
                                  f"make '{label}' a @pyhost.func")
        entry = intrinsics.lookup(obj)
        if entry is not None and entry.lower is not None:
            return self.call_intrinsic(entry, node, label)
        helper = _plain_helper(obj)
        if helper is not None:
            return self.call_func(helper, node)
        name = getattr(obj, "__name__", label)
        raise self.src.reject(f"call to {name}()", node,
                              "kernels may call math functions, min/max/abs, int/float/bool, "
                              "pyhost.tid/atomic_add/random and @pyhost.func helpers")

    def call_intrinsic(self, entry, node, label):
        """A call of a function of the intrinsics table: its entry types and lowers it."""
        return entry.lower(self, node, label)

    def label(self, node):
        """The Python text of an expression, for messages."""
        return ast.unparse(node)

    def call_args(self, node, n, sig, allow_arrays=False):
        if len(node.args) != n:
            raise self.err(f"{sig} takes {n} argument(s), got {len(node.args)}", node)
        args = [self.expr(a) for a in node.args]
        for a, an in zip(args, node.args):
            ok = isinstance(a.type, kt.ScalarType) or (allow_arrays and
                                                       isinstance(a.type, kt.ArrayType))
            if not ok:
                raise self.err(f"{sig}: argument is a {_tname(a.type)}, expected a number", an)
        if not all(a.pure for a in args):
            args = [self.force_tmp(a) for a in args]
        return args

    def convert(self, v, t, node):
        """``int(v)``, ``float(v)``, ``pyhost.f32(v)``...: a cast with Python's rules."""
        if v.const is not None:
            try:
                value = t(v.const)
            except (ValueError, OverflowError):
                value = None
            if value is not None:
                if t in (kt.i64, kt.f64):  # int()/float() of a literal: still a literal
                    return self.object_value(value, node)
                return Val(render_const(value, t), t, const=value, simple=True)
        if t.is_int and v.type.is_float:
            code = f"ph_f2i({v.code})" if t is kt.i64 else f"(({t.ctype})ph_f2i({v.code}))"
            return Val(code, t, pure=v.pure)
        return Val(cast(Val(v.code, v.type), t), t, pure=v.pure)

    def call_func(self, func, node):
        fsrc = func._source()
        params = [a for a in fsrc.tree.args.args]
        if len(node.args) != len(params):
            raise self.err(f"{fsrc.name}() takes {len(params)} argument(s), got "
                           f"{len(node.args)}", node)
        args = [self.expr(a) for a in node.args]
        if not all(a.pure for a in args):
            args = [self.force_tmp(a) for a in args]
        types = []
        for p, a, an in zip(params, args, node.args):
            if isinstance(a.type, TupleT) or a.type is None:
                raise self.err(f"argument '{p.arg}' of {fsrc.name}() cannot be a tuple", an)
            if p.annotation is not None:
                t = func._annotation(p.arg)
                if isinstance(t, kt.ArrayType) or isinstance(a.type, kt.ArrayType):
                    if t != a.type:
                        raise self.err(f"argument '{p.arg}' of {fsrc.name}() must be "
                                       f"{_tname(t)}, got {_tname(a.type)}", an)
            else:
                t = a.type
                if a.weak:
                    t = kt.i64 if a.type.is_int else kt.f64
            types.append(t)
        key, result = self.unit.specialize(func, types, self.src, node)
        self.calls.add(key)
        for k in result.written:
            self.mark_written(args[k])
        code = f"{result.cname}(ph_err{''.join(', ' + cast(a, t) for a, t in zip(args, types))})"
        if result.impure:
            self.impure = True
        return Val(code, result.ret_type, pure=not result.impure)
