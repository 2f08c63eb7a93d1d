"""Stage 2 and 3: typing and lowering of one function (a kernel body or one specialization of a
func) to C++. One walk over the statements does both: each expression is typed by the rules of
``typing_rules.py`` and lowered to C++ text; the walk is repeated until the types of the locals
stop changing (a variable's type is the join of everything assigned to it). Calls go to the
intrinsics table (``intrinsics.py``) or to ``@pyhost.func`` helpers (specialized per argument
types). The C++ keeps Python's semantics where it differs: true division, ``//`` and ``%`` with
the sign of the divisor, ``**``, chained comparisons, short-circuit ``and``/``or`` returning an
operand, tuple assignment evaluating the right side first, negative indices and bounds checks
(IndexError), division by zero (ZeroDivisionError).

This module holds the walk's driver and state (FnTranslator), name resolution and the
specialization of funcs (Unit); the statements are lowered in ``lower_statements.py``, the
expressions and calls in ``lower_expressions.py``.
"""
import ast
import builtins

from . import intrinsics
from . import types as kt
from .errors import KernelTypeError
from .lower_expressions import ExpressionLowering
from .lower_statements import StatementLowering
from .source import _Unresolved, assignment_targets
from .syntax import _construct_name
from .typing_rules import TupleT, TypeAcc, Val, _tname, ctype, mangle, render_const


_NUMPY_SCALARS = {"float32": kt.f32, "float64": kt.f64, "int32": kt.i32, "int64": kt.i64,
                  "uint32": kt.u32, "uint8": kt.u8, "bool": kt.boolean,
                  "int8": kt.i32, "int16": kt.i32, "uint16": kt.u32}


def _numpy_scalar_type(obj):
    """The kernel type of a numpy scalar (np.int64(5)...), else None (no numpy import: duck
    typing on numpy.generic's dtype and item())."""
    dtype = getattr(obj, "dtype", None)
    if dtype is None or not hasattr(obj, "item") or getattr(obj, "shape", None) != () or \
            type(obj).__module__ != "numpy":
        return None
    return _NUMPY_SCALARS.get(getattr(dtype, "name", None))


def _assigned_names(fn):
    return list(dict.fromkeys(assignment_targets(fn)))


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
        self.error_model = "python"   # or "numpy": float / by zero gives inf (translator.py)
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
            translator = FnTranslator(self, fsrc, arg_types, kernel=False, cname=cname)
            result = translator.run()
            result.translator = translator  # its settled types: lanes.py translates it again
        finally:
            self.stack.pop()
        self.specs[key] = result
        return key, result


class _Out:
    def __init__(self):
        self.lines = []


class FnTranslator(StatementLowering, ExpressionLowering):
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
    def body_statements(self):
        """The function's statements, its docstring left out."""
        body = self.src.tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        return body

    def start_walk(self):
        """Fresh state for one walk over the body (types settle over several walks)."""
        self.changed = False
        self.tmp_count = 0
        self.tmp_decls = []
        self.calls = set()
        self.impure = False
        self.out = _Out()
        self.indent = 1
        self.loop_depth = 0
        self.unknown = None

    def run(self):
        body = self.body_statements()
        for _ in range(self.MAX_RUNS):
            self.start_walk()
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
        # a line continued with a backslash would continue the C++ comment over the next line
        text = self.src.line_text(node).strip().rstrip("\\").rstrip()
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

    def _const_tuple(self, obj, node):
        elts = []
        for v in obj:
            if isinstance(v, tuple):
                raise self.err(f"'{ast.unparse(node)}' is a nested tuple; kernels take tuples "
                               "of numbers", node, "nested tuple")
            elts.append(self.object_value(v, node))
        return Val(None, TupleT([e.type for e in elts]), elts=elts)

    def object_value(self, obj, node):
        if isinstance(obj, bool):
            return Val(render_const(obj, kt.boolean), kt.boolean, const=obj, simple=True)
        if isinstance(obj, int):
            if not -(1 << 63) <= obj < (1 << 63):
                raise self.err(f"integer {obj} does not fit in 64 bits", node)
            return Val(render_const(obj, kt.i64), kt.i64, const=obj, weak=True, simple=True)
        if isinstance(obj, float):
            return Val(render_const(obj, kt.f64), kt.f64, const=obj, weak=True, simple=True)
        t = _numpy_scalar_type(obj)
        if t is not None:   # np.int64(3600), np.float32(0.5): a typed constant, as Numba freezes
            value = obj.item()
            # ints fold as constants; a float32 does not (folding runs in Python's f64)
            return Val(render_const(value, t), t, const=None if t.is_float else value,
                       simple=True)
        if isinstance(obj, tuple):  # a global tuple of numbers: a tuple of constants
            return Val(None, TupleT([]), elts=[]) if not obj else self._const_tuple(obj, node)
        hook = getattr(type(obj), "_kernel_lower_value", None)  # e.g. pyhost.cuda.threadIdx.x
        if hook is not None:
            return hook(obj, self, node)
        what = type(obj).__name__
        label = ast.unparse(node)
        raise self.err(f"'{label}' (a {what}) cannot be used in a kernel; only numbers, arrays "
                       f"and the supported functions can", node, f"use of {what}")
