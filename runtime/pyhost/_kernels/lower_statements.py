"""Lowering of statements (part of ``lowering.FnTranslator``): assignments with their typing,
if/while/for, return, break/continue."""
import ast
import builtins

from . import intrinsics
from . import types as kt
from .errors import KernelSyntaxError, KernelTypeError
from .intrinsics import ERR_VALUE
from .source import _Unresolved
from .syntax import _construct_name
from .typing_rules import TupleT, Val, _promote_small, _tname, cast, join_types, mangle


class StatementLowering:
    """Statement methods of FnTranslator (which holds the state they use)."""

    # -- statements ----------------------------------------------------------------------------
    def stmts(self, body):
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, node):
        if not isinstance(node, (ast.If, ast.While, ast.For)):
            self.comment(node)
        method = getattr(self, f"stmt_{type(node).__name__}", None)
        if method is None:
            raise self.src.reject(_construct_name(node), node)
        method(node)

    def stmt_Pass(self, node):
        pass

    def stmt_Break(self, node):
        self.emit("break;")

    def stmt_Continue(self, node):
        self.emit("continue;")

    def stmt_Expr(self, node):
        v = self.expr(node.value)
        if v.type is None:
            self.emit(f"{v.code};")
        elif not v.pure:
            self.emit(f"(void)({v.code});")

    def stmt_Return(self, node):
        if self.kernel:
            if node.value is not None:
                raise self.err("a kernel cannot return a value; write results into an array",
                               node, "return value in a kernel")
            self.emit("return;")
            return
        self.ret_nodes.append(node)
        if node.value is None:
            self.ret_none = True
            self.emit("return;")
            return
        v = self.expr(node.value)
        if not isinstance(v.type, kt.ScalarType):
            raise self.err("a func returns one number (not a tuple, array or None)", node,
                           "returning a tuple or array")
        old = self.ret_type
        self.ret_acc.add(v)
        self.ret_type = self.ret_acc.type
        if self.ret_type is not old:
            self.changed = True
        self.emit(f"return {cast(v, self.ret_type)};")

    def stmt_Assign(self, node):
        if self.is_tid_unpacking(node):
            n = len(node.targets[0].elts)
            if not 2 <= n <= 3:
                raise self.err(f"tid() gives 1, 2 or 3 values, not {n}", node, "tid dimensions")
            value = intrinsics.lower_tid(self, node.value, "tid", want=n)
            for t, e in zip(node.targets[0].elts, value.elts):
                self.assign(t, e, node)
            return
        value = self.expr(node.value)
        if len(node.targets) > 1:
            value = self.materialize(value)
        for target in node.targets:
            self.assign(target, value, node)

    def is_tid_unpacking(self, node):
        """`x, y = pyhost.tid()`: the number of names gives the launch's dimensions."""
        v = node.value
        if not (isinstance(v, ast.Call) and not v.args and len(node.targets) == 1 and
                isinstance(node.targets[0], ast.Tuple)):
            return False
        if isinstance(v.func, ast.Name) and v.func.id in self.local_set:
            return False
        try:
            return self.resolve_object(v.func) is intrinsics.tid
        except (_Unresolved, KernelTypeError, KernelSyntaxError):
            return False

    def stmt_AnnAssign(self, node):
        if not isinstance(node.target, ast.Name):
            raise self.src.reject("annotated assignment to a subscript", node)
        t = self.resolve_annotation(node.annotation, node)
        name = node.target.id
        prev = self.fixed.get(name)
        if prev is not None and prev is not t:
            raise self.err(f"'{name}' is annotated as both {_tname(prev)} and {_tname(t)}", node)
        if prev is None:
            self.fixed[name] = t
            self.var_types[name] = t
            self.changed = True
        if node.value is not None:
            self.assign(node.target, self.expr(node.value), node)

    def stmt_AugAssign(self, node):
        op = type(node.op)
        target = node.target
        if isinstance(target, ast.Name):
            cur = self.load_name(target)
            rhs = self.expr(node.value)
            result = self.binop(op, cur, rhs, node)
            self.assign(target, result, node)
        elif isinstance(target, ast.Subscript):
            arr, idx = self.subscript_parts(target)
            idx = [self.materialize(i) for i in idx]
            cur = self.load_element(arr, idx, target)
            rhs = self.expr(node.value)
            if not rhs.pure:
                cur = self.materialize(cur)
            result = self.binop(op, cur, rhs, node)
            self.store_element(arr, idx, result, target)
        else:
            raise self.src.reject("augmented assignment to this target", node)

    def assign(self, target, value, node):
        if isinstance(target, ast.Name):
            if value.type is None:
                raise self.err("this call returns nothing; it cannot be assigned", node)
            if target.id not in self.local_set:
                raise self.err(f"cannot assign to '{target.id}'", node)
            t = self.set_var_type(target.id, value, node)
            self.emit(f"{mangle(target.id)} = {cast(value, t)};")
        elif isinstance(target, ast.Subscript):
            if isinstance(value.type, (TupleT, kt.ArrayType)) or value.type is None:
                raise self.err("only numbers can be stored into array elements", node)
            if not value.pure:
                value = self.materialize(value)
            arr, idx = self.subscript_parts(target)
            self.store_element(arr, idx, value, target)
        elif isinstance(target, ast.Tuple):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                raise self.src.reject("starred expression", node)
            if not isinstance(value.type, TupleT):
                raise self.err(f"cannot unpack a {_tname(value.type)} into "
                               f"{len(target.elts)} names", node, "tuple unpacking")
            if len(value.elts) != len(target.elts):
                raise self.err(f"cannot unpack {len(value.elts)} values into "
                               f"{len(target.elts)} targets", node, "tuple unpacking")
            elts = [e if (e.const is not None or e.code in ("ph_t0", "ph_t1", "ph_t2"))
                    else self.force_tmp(e) for e in value.elts]
            for t, e in zip(target.elts, elts):
                self.assign(t, e, node)
        else:
            raise self.src.reject(f"assignment to {_construct_name(target)}", node)

    def force_tmp(self, v):
        if v.const is not None:
            return v
        if isinstance(v.type, TupleT):
            raise self.err("nested tuples are not supported", None)
        tmp = self.new_tmp(v.type)
        self.emit(f"{tmp} = {v.code};")
        return Val(tmp, v.type, simple=True, origin=v.origin)

    def cond_code(self, v, node):
        if isinstance(v.type, (TupleT, kt.ArrayType)) or v.type is None:
            raise self.err(f"a {_tname(v.type)} has no truth value here", node)
        if v.type.is_bool:
            return v.code
        return f"({v.code} != 0)"

    def stmt_If(self, node, is_elif=False):
        if not is_elif:
            self.comment(node)
        test = self.expr(node.test)
        self.emit(f"if ({self.cond_code(test, node.test)}) {{")
        self.indent += 1
        self.stmts(node.body)
        self.indent -= 1
        orelse = node.orelse
        if not orelse:
            self.emit("}")
            return
        if len(orelse) == 1 and isinstance(orelse[0], ast.If):
            # elif: chain as `else if` when its test needs no statements of its own.
            sub = orelse[0]
            (test2, lines) = self.capture(lambda: self.expr(sub.test))
            if not lines:
                self.emit(f"}} else if ({self.cond_code(test2, sub.test)}) {{")
                self.indent += 1
                self.stmts(sub.body)
                self.indent -= 1
                # Continue the chain with sub's else.
                rest = sub.orelse
                while rest:
                    if len(rest) == 1 and isinstance(rest[0], ast.If):
                        nxt = rest[0]
                        (t3, l3) = self.capture(lambda: self.expr(nxt.test))
                        if l3:
                            break
                        self.emit(f"}} else if ({self.cond_code(t3, nxt.test)}) {{")
                        self.indent += 1
                        self.stmts(nxt.body)
                        self.indent -= 1
                        rest = nxt.orelse
                        continue
                    break
                if rest:
                    self.emit("} else {")
                    self.indent += 1
                    self.stmts(rest)
                    self.indent -= 1
                self.emit("}")
                return
        self.emit("} else {")
        self.indent += 1
        self.stmts(orelse)
        self.indent -= 1
        self.emit("}")

    def stmt_While(self, node):
        self.comment(node)
        (test, lines) = self.capture(lambda: self.expr(node.test))
        self.loop_depth += 1
        if not lines:
            self.emit(f"while ({self.cond_code(test, node.test)}) {{")
        else:
            self.emit("while (true) {")
            self.splice(lines, 1)
            self.emit(f"  if (!({self.cond_code(test, node.test)})) break;")
        self.indent += 1
        self.stmts(node.body)
        self.indent -= 1
        self.emit("}")
        self.loop_depth -= 1

    def range_bounds(self, args):
        """start, stop, step of range(*args), each evaluated once, in order (temporaries when an
        argument has side effects)."""
        one = Val("1LL", kt.i64, const=1, weak=True)
        if len(args) == 1:
            start, stop, step = Val("0LL", kt.i64, const=0, weak=True), args[0], one
        elif len(args) == 2:
            start, stop, step = args[0], args[1], one
        else:
            start, stop, step = args
        if not all(a.pure for a in args):
            return tuple(self.force_tmp(a) for a in (start, stop, step))
        return tuple(self.materialize(a) for a in (start, stop, step))

    def stmt_For(self, node):
        self.comment(node)
        call = node.iter
        if call.func.id in self.local_set or self.lookup_global("range", call.func) \
                is not builtins.range:
            raise self.src.reject("for loop over something other than range()", node)
        if not 1 <= len(call.args) <= 3:
            raise self.err(f"range expected 1 to 3 arguments, got {len(call.args)}", call)
        args = [self.expr(a) for a in call.args]
        for a, a_node in zip(args, call.args):
            if not isinstance(a.type, kt.ScalarType) or not (a.type.is_int or a.type.is_bool):
                raise self.err(f"range() arguments must be integers, got {_tname(a.type)}",
                               a_node)
        start, stop, step = self.range_bounds(args)
        strong = [a.type for a in (start, stop, step) if not a.weak]
        vtype = kt.i64 if not strong else strong[0]
        for t in strong[1:]:
            vtype = join_types(vtype, t)
        vtype = _promote_small(vtype)
        name = node.target.id
        t = self.set_var_type(name, Val(name, vtype, simple=True), node)
        if not isinstance(t, kt.ScalarType) or not t.is_int:
            raise self.err(f"loop variable '{name}' must be an integer, not {_tname(t)}", node)
        counter = self.new_tmp(kt.i64)
        lo, hi, st = (cast(a, kt.i64) for a in (start, stop, step))
        if step.const is not None:
            if step.const == 0:
                raise self.err("range() arg 3 must not be zero", call)
            cond = f"{counter} < {hi}" if step.const > 0 else f"{counter} > {hi}"
        else:
            sid = self.site(call, ERR_VALUE, "range() arg 3 must not be zero")
            self.emit(f"if ({st} == 0) ph_fail(ph_err, {sid});")
            cond = f"({st} > 0 ? {counter} < {hi} : {counter} > {hi})"
        inc = f"{counter} += {st}" if step.const != 1 else f"++{counter}"
        self.emit(f"for ({counter} = {lo}; {cond}; {inc}) {{")
        self.indent += 1
        self.emit(f"{mangle(name)} = {cast(Val(counter, kt.i64, simple=True), t)};")
        self.loop_depth += 1
        self.stmts(node.body)
        self.loop_depth -= 1
        self.indent -= 1
        self.emit("}")
