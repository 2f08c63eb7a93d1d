"""Stage 2 and 3: typing and lowering of one function (a kernel body or one specialization of a
func) to C++. One walk over the statements does both: each expression is typed by the rules of
``typing_rules.py`` and lowered to C++ text; the walk is repeated until the types of the locals
stop changing (a variable's type is the join of everything assigned to it). Calls go to the
intrinsics table (``intrinsics.py``) or to ``@pyhost.func`` helpers (specialized per argument
types). The C++ keeps Python's semantics where it differs: true division, ``//`` and ``%`` with
the sign of the divisor, ``**``, chained comparisons, short-circuit ``and``/``or`` returning an
operand, tuple assignment evaluating the right side first, negative indices and bounds checks
(IndexError), division by zero (ZeroDivisionError).
"""
import ast
import builtins

from . import intrinsics
from . import types as kt
from .errors import KernelSyntaxError, KernelTypeError
from .intrinsics import ERR_INDEX, ERR_VALUE, ERR_ZERODIV
from .source import _Unresolved
from .syntax import _BINOP_SYMBOL, _CMP_SYMBOL, _constant_construct, _construct_name
from .typing_rules import (TupleT, TypeAcc, Val, _promote_small, _tname, arith_type, cast,
                           ctype, join_types, render_const)

CPP_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export extern
false float for friend goto if inline int long mutable namespace new noexcept not not_eq nullptr
operator or or_eq private protected public register reinterpret_cast requires return short signed
sizeof static static_assert static_cast struct switch template this thread_local throw true try
typedef typeid typename union unsigned using virtual void volatile wchar_t while xor xor_eq
main NULL signbit isnan isinf isfinite min max abs
""".split())


def _assigned_names(fn):
    names = []

    def add_target(t):
        if isinstance(t, ast.Name):
            if t.id not in names:
                names.append(t.id)
        elif isinstance(t, ast.Tuple):
            for e in t.elts:
                add_target(e)

    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                add_target(t)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)):
            add_target(node.target)
    return names


def mangle(name):
    if name in CPP_KEYWORDS or name.startswith(("ph_", "_")):
        return f"ph_v_{name}"
    return name


class FnResult:
    def __init__(self, cname, code, ret_type, params, written, calls, dims, impure):
        self.impure = impure      # writes memory (stores, atomics): calls are not reordered
        self.cname = cname
        self.code = code
        self.ret_type = ret_type
        self.params = params      # [(name, type)]
        self.written = written    # indices of array parameters written to
        self.calls = calls        # keys of called func specializations
        self.dims = dims


class Unit:
    """Everything generated for one kernel: its body, the funcs it calls, the error sites."""

    def __init__(self):
        self.specs = {}           # key -> FnResult
        self.spec_names = {}
        self.stack = []           # funcs being translated (recursion detection)
        self.sites = {}           # (kind, file, line, col, detail) -> id
        self.site_info = [None]   # id -> (kind, filename, lineno, source_line, detail)

    def site(self, src, node, kind, detail):
        key = (kind, src.filename, src.lineno(node), getattr(node, "col_offset", 0), detail)
        sid = self.sites.get(key)
        if sid is None:
            sid = self.sites[key] = len(self.site_info)
            self.site_info.append((kind, src.filename, src.lineno(node), src.line_text(node),
                                   detail, src.name))
        return sid

    def specialize(self, func, arg_types, src_caller, call_node):
        key = (id(func), tuple(arg_types))
        if key in self.specs:
            return key, self.specs[key]
        if any(k[0] == id(func) for k in self.stack):
            raise src_caller.reject("recursion", call_node,
                                    f"'{func.__name__}' calls itself directly or indirectly")
        fsrc = func._source()
        base = f"ph_f_{fsrc.name}"
        n = self.spec_names.get(base, 0)
        self.spec_names[base] = n + 1
        cname = base if n == 0 else f"{base}_{n}"
        self.stack.append(key)
        try:
            result = FnTranslator(self, fsrc, arg_types, kernel=False, cname=cname).run()
        finally:
            self.stack.pop()
        self.specs[key] = result
        return key, result


class _Out:
    def __init__(self):
        self.lines = []


class FnTranslator:
    MAX_RUNS = 12

    def __init__(self, unit, src, param_types, *, kernel, cname):
        self.unit = unit
        self.src = src
        self.kernel = kernel
        self.cname = cname
        fn = src.tree
        self.param_names = [a.arg for a in fn.args.args]
        if len(param_types) != len(self.param_names):
            raise AssertionError("parameter count")
        self.param_types = list(param_types)
        self.locals = list(self.param_names) + [n for n in _assigned_names(fn)
                                                if n not in self.param_names]
        self.local_set = set(self.locals)
        self.var_types = {}
        self.accs = {}            # name -> TypeAcc of everything assigned
        self.ret_acc = TypeAcc()
        self.fixed = {}
        for name, t in zip(self.param_names, self.param_types):
            self.var_types[name] = t
            self.fixed[name] = t
        self.origins = {name: frozenset([i]) for i, (name, t) in
                        enumerate(zip(self.param_names, self.param_types))
                        if isinstance(t, kt.ArrayType)}
        self.written = set()
        self.dims = None
        self.dims_node = None
        self.ret_type = None
        self.ret_none = False
        self.ret_nodes = []

    # -- driver --------------------------------------------------------------------------------
    def run(self):
        body = self.src.tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        for _ in range(self.MAX_RUNS):
            self.changed = False
            self.tmp_count = 0
            self.tmp_decls = []
            self.calls = set()
            self.impure = False
            self.out = _Out()
            self.indent = 1
            self.loop_depth = 0
            self.unknown = None
            self.stmts(body)
            if not self.changed:
                if self.unknown is not None:
                    raise self.err(f"local variable '{self.unknown.id}' is used before it is "
                                   "assigned", self.unknown, "unbound local")
                break
        else:
            raise self.src.error(KernelTypeError, "the types of the local variables do not "
                                 "settle (a variable keeps changing type)", self.src.tree)
        if not self.kernel and self.ret_type is not None and self.ret_none:
            node = self.ret_nodes[0]
            raise self.src.error(KernelTypeError, f"func '{self.src.name}' returns a value on "
                                 "some paths and nothing on others", node, "mixed return")
        return FnResult(self.cname, self.emit_function(), self.ret_type,
                        list(zip(self.param_names, self.param_types)), sorted(self.written),
                        set(self.calls), self.dims, self.impure)

    def emit_function(self):
        lines = []
        if self.kernel:
            params = ["int* ph_err", "ph_i64 ph_t0", "ph_i64 ph_t1", "ph_i64 ph_t2"]
            ret = "void"
        else:
            params = ["int* ph_err"]
            ret = self.ret_type.ctype if self.ret_type is not None else "void"
        for name, t in zip(self.param_names, self.param_types):
            params.append(f"{ctype(t)} {mangle(name)}")
        kind = "kernel" if self.kernel else "func"
        lines.append(f"// @pyhost.{kind} {self.src.name} ({self.src.filename}:"
                     f"{self.src.lineno(self.src.tree)})")
        lines.append(f"PH_FN {ret} {self.cname}({', '.join(params)}) {{")
        for name in self.locals:
            if name in self.param_names:
                continue
            t = self.var_types.get(name)
            if t is None:
                continue
            init = "{}" if isinstance(t, kt.ArrayType) else "0"
            lines.append(f"  {ctype(t)} {mangle(name)} = {init};")
        for tmp, t in self.tmp_decls:
            lines.append(f"  {ctype(t)} {tmp};")
        lines.extend(self.out.lines)
        if not self.kernel and self.ret_type is not None:
            lines.append(f"  return {render_const(0, self.ret_type)};")
        lines.append("}")
        return "\n".join(lines)

    # -- helpers -------------------------------------------------------------------------------
    def emit(self, line):
        self.out.lines.append("  " * self.indent + line)

    def err(self, message, node, construct=None):
        return self.src.error(KernelTypeError, message, node, construct)

    def new_tmp(self, t):
        self.tmp_count += 1
        name = f"ph_tmp{self.tmp_count}"
        self.tmp_decls.append((name, t))
        return name

    def materialize(self, v):
        if v.simple or v.const is not None:
            return v
        if isinstance(v.type, TupleT):
            return Val(None, v.type, elts=[self.materialize(e) for e in v.elts])
        tmp = self.new_tmp(v.type)
        self.emit(f"{tmp} = {v.code};")
        return Val(tmp, v.type, simple=True, origin=v.origin)

    def capture(self, fn):
        """Run fn() with emitted lines collected apart; returns (result, lines)."""
        saved = self.out
        self.out = _Out()
        try:
            result = fn()
        finally:
            captured, self.out = self.out, saved
        return result, captured.lines

    def splice(self, lines, extra_indent=0):
        for line in lines:
            self.out.lines.append("  " * extra_indent + line)

    def comment(self, node):
        text = self.src.line_text(node).strip()
        self.emit(f"// {self.src.filename.rsplit('/', 1)[-1]}:{self.src.lineno(node)}  "
                  f"{text.replace('*/', '* /')}")

    def site(self, node, kind, detail):
        return self.unit.site(self.src, node, kind, detail)

    def set_var_type(self, name, v, node):
        """Record that ``name`` is assigned ``v``; returns the variable's type."""
        if isinstance(v.type, TupleT):
            raise self.err(f"tuples cannot be stored in a variable ('{name}'); unpack them: "
                           f"a, b = ...", node, "tuple variable")
        old = self.var_types.get(name)
        if isinstance(v.type, kt.ArrayType) or isinstance(old, kt.ArrayType):
            if old is not None and old != v.type:
                raise self.err(f"variable '{name}' is assigned both {_tname(old)} and "
                               f"{_tname(v.type)}", node, "mixed types")
            origin = self.origins.get(name, frozenset()) | v.origin
            if origin != self.origins.get(name, frozenset()):
                self.origins[name] = origin
                self.changed = True
            if old is None:
                self.var_types[name] = v.type
                self.changed = True
            return v.type
        if name in self.fixed:
            return self.fixed[name]
        acc = self.accs.setdefault(name, TypeAcc())
        acc.add(v)
        new = acc.type
        if new is not old:
            self.var_types[name] = new
            self.changed = True
        return new

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
        if len(args) == 1:
            start, stop, step = Val("0LL", kt.i64, const=0, weak=True), args[0], \
                Val("1LL", kt.i64, const=1, weak=True)
        elif len(args) == 2:
            start, stop, step = args[0], args[1], Val("1LL", kt.i64, const=1, weak=True)
        else:
            start, stop, step = args
        if not all(a.pure for a in args):
            start, stop, step = (self.force_tmp(a) for a in (start, stop, step))
        else:
            start, stop, step = (self.materialize(a) for a in (start, stop, step))
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

    # -- names ---------------------------------------------------------------------------------
    def lookup_global(self, name, node):
        if name in self.src.closure:
            return self.src.closure[name]
        if name in self.src.globals:
            return self.src.globals[name]
        b = self.src.globals.get("__builtins__", builtins)
        b = b if isinstance(b, dict) else getattr(b, "__dict__", {})
        if name in b:
            return b[name]
        raise _Unresolved(self.src.error(KernelTypeError, f"name '{name}' is not defined", node,
                                         "undefined name"))

    def resolve_object(self, node):
        """The python object a global name or attribute chain refers to."""
        if isinstance(node, ast.Name):
            return self.lookup_global(node.id, node)
        if isinstance(node, ast.Attribute):
            base = self.resolve_object(node.value)
            try:
                return getattr(base, node.attr)
            except AttributeError:
                raise self.err(f"'{ast.unparse(node.value)}' has no attribute '{node.attr}'",
                               node) from None
        raise self.src.reject(_construct_name(node), node)

    def resolve_annotation(self, ann, node):
        try:
            obj = self.resolve_object(ann) if isinstance(ann, (ast.Name, ast.Attribute)) else None
            if obj is None and isinstance(ann, ast.Subscript):
                obj = eval(compile(ast.Expression(ann), self.src.filename, "eval"),
                           dict(self.src.globals, **self.src.closure))
        except _Unresolved as exc:
            raise exc.args[0] from None
        except Exception:  # noqa: BLE001 - a bad annotation expression
            obj = None
        t = kt.scalar_from_python_type(obj)
        if t is None:
            raise self.err(f"unsupported type annotation '{ast.unparse(ann)}' (use pyhost.f32, "
                           f"f64, i32, i64, u32, u8, boolean or an array such as f32[:])", node,
                           "type annotation")
        return t

    def load_name(self, node):
        name = node.id
        if name in self.local_set:
            t = self.var_types.get(name)
            if t is None:
                # Not assigned yet in program order (set later in a loop body): the next run
                # knows its type; if none does, it is never assigned.
                self.unknown = self.unknown or node
                return Val(mangle(name), kt.i64, simple=True)
            return Val(mangle(name), t, simple=True, origin=self.origins.get(name, frozenset()))
        obj = self.lookup_global(name, node)
        return self.object_value(obj, node)

    def object_value(self, obj, node):
        if isinstance(obj, bool):
            return Val(render_const(obj, kt.boolean), kt.boolean, const=obj, simple=True)
        if isinstance(obj, int):
            if not -(1 << 63) <= obj < (1 << 63):
                raise self.err(f"integer {obj} does not fit in 64 bits", node)
            return Val(render_const(obj, kt.i64), kt.i64, const=obj, weak=True, simple=True)
        if isinstance(obj, float):
            return Val(render_const(obj, kt.f64), kt.f64, const=obj, weak=True, simple=True)
        what = type(obj).__name__
        label = ast.unparse(node)
        raise self.err(f"'{label}' (a {what}) cannot be used in a kernel; only numbers, arrays "
                       f"and the supported functions can", node, f"use of {what}")

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
                not isinstance(node.value, (ast.Name, ast.Attribute)):
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
            if b.const is not None and b.const != 0:
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
        t, _ = arith_type(left, right) if not (left.type.is_bool and right.type.is_bool) \
            else (kt.boolean, False)
        if left.type.is_bool != right.type.is_bool and (left.type.is_bool or right.type.is_bool):
            other = right.type if left.type.is_bool else left.type
            t = _promote_small(other) if not other.is_float else other
        tmp = self.new_tmp(t)
        self.emit(f"{tmp} = {cast(left, t)};")
        test = self.cond_code(Val(tmp, t), node)
        self.emit(f"if ({test if is_and else '!' + test}) {{")
        self.splice(lines, 1)
        self.emit(f"  {tmp} = {cast(right, t)};")
        self.emit("}")
        return Val(tmp, t, simple=True)

    def expr_IfExp(self, node):
        test = self.expr(node.test)
        (body, l1) = self.capture(lambda: self.expr(node.body))
        (orelse, l2) = self.capture(lambda: self.expr(node.orelse))
        for v, n in ((body, node.body), (orelse, node.orelse)):
            if not isinstance(v.type, kt.ScalarType):
                raise self.err(f"conditional expressions give numbers, not {_tname(v.type)}", n)
        if body.type.is_bool and orelse.type.is_bool:
            t = kt.boolean
        else:
            t, _ = arith_type(body, orelse)
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
