"""Python AST -> CUDA C++ for ``@pyhost.kernel`` and ``@pyhost.func`` (model: NVIDIA Warp's codegen).

One generated text serves both targets: NVRTC compiles it for the GPU and the system C++ compiler
for the CPU fallback (see ``prelude.py``). The translation keeps Python's semantics where C++
differs: true division, ``//`` and ``%`` with the sign of the divisor, ``**``, chained comparisons,
short-circuit ``and``/``or`` returning an operand, tuple assignment evaluating the right side
first, ``min``/``max`` keeping the first of equal items, negative indices and bounds checks
(IndexError), division by zero (ZeroDivisionError).

Typing: parameters are annotated; locals take the join of everything assigned to them (found by
re-running the translation until the types stop changing). Number literals are "weak": they take
the type of the other operand (``2.0 * x`` stays f32 for an f32 ``x``); otherwise int and float
mix like C (``i * x`` is f32 for an f32 ``x``), ``int / int`` is f64 as in Python.
"""
import ast
import builtins
import inspect
import math
import textwrap

from . import builtins as kb
from . import types as kt
from .errors import KernelSyntaxError, KernelTypeError

# Error sites: kind -> Python exception name raised on the host.
ERR_INDEX, ERR_ZERODIV, ERR_VALUE = 1, 2, 3
ERROR_KINDS = {ERR_INDEX: "IndexError", ERR_ZERODIV: "ZeroDivisionError", ERR_VALUE: "ValueError"}

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

# Construct names for rejected AST nodes.
CONSTRUCT_NAMES = {
    "Try": "try statement", "TryStar": "try statement", "With": "with statement",
    "AsyncWith": "async with statement", "Lambda": "lambda", "ListComp": "list comprehension",
    "SetComp": "set comprehension", "DictComp": "dict comprehension",
    "GeneratorExp": "generator expression", "List": "list", "Dict": "dict", "Set": "set",
    "JoinedStr": "f-string", "FormattedValue": "f-string", "Raise": "raise statement",
    "Assert": "assert statement", "Delete": "del statement", "Global": "global statement",
    "Nonlocal": "nonlocal statement", "Import": "import statement",
    "ImportFrom": "import statement", "ClassDef": "class definition",
    "FunctionDef": "nested function definition", "AsyncFunctionDef": "nested function definition",
    "Yield": "yield", "YieldFrom": "yield from", "Await": "await", "AsyncFor": "async for",
    "NamedExpr": "assignment expression (:=)", "Starred": "starred expression",
    "Slice": "slicing", "Match": "match statement", "TypeAlias": "type alias",
    "MatMult": "matrix multiplication operator (@)", "Is": "'is' comparison",
    "IsNot": "'is not' comparison", "In": "'in' comparison", "NotIn": "'not in' comparison",
}

_BINOP_SYMBOL = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>",
}
_CMP_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
               ast.GtE: ">="}

# math functions: python object -> (C++ helper name, arity, result: "float" | "int" | "bool")
MATH_FUNCS = {
    math.sqrt: ("ph_sqrt", 1, "float"), math.cbrt if hasattr(math, "cbrt") else None: None,
    math.exp: ("ph_exp", 1, "float"), math.expm1: ("ph_expm1", 1, "float"),
    math.log2: ("ph_log2", 1, "float"), math.log10: ("ph_log10", 1, "float"),
    math.log1p: ("ph_log1p", 1, "float"), math.sin: ("ph_sin", 1, "float"),
    math.cos: ("ph_cos", 1, "float"), math.tan: ("ph_tan", 1, "float"),
    math.asin: ("ph_asin", 1, "float"), math.acos: ("ph_acos", 1, "float"),
    math.atan: ("ph_atan", 1, "float"), math.sinh: ("ph_sinh", 1, "float"),
    math.cosh: ("ph_cosh", 1, "float"), math.tanh: ("ph_tanh", 1, "float"),
    math.asinh: ("ph_asinh", 1, "float"), math.acosh: ("ph_acosh", 1, "float"),
    math.atanh: ("ph_atanh", 1, "float"), math.fabs: ("ph_fabs", 1, "float"),
    math.erf: ("ph_erf", 1, "float"), math.erfc: ("ph_erfc", 1, "float"),
    math.gamma: ("ph_gamma", 1, "float"), math.lgamma: ("ph_lgamma", 1, "float"),
    math.atan2: ("ph_atan2", 2, "float"), math.pow: ("ph_pow", 2, "float"),
    math.fmod: ("ph_fmod", 2, "float"), math.copysign: ("ph_copysign", 2, "float"),
    math.floor: ("ph_floor", 1, "int"), math.ceil: ("ph_ceil", 1, "int"),
    math.trunc: ("ph_trunc", 1, "int"), math.isnan: ("ph_isnan", 1, "bool"),
    math.isinf: ("ph_isinf", 1, "bool"), math.isfinite: ("ph_isfinite", 1, "bool"),
}
if hasattr(math, "cbrt"):
    MATH_FUNCS[math.cbrt] = ("ph_cbrt", 1, "float")
if hasattr(math, "exp2"):
    MATH_FUNCS[math.exp2] = ("ph_exp2", 1, "float")
MATH_FUNCS.pop(None, None)


class _Unresolved(Exception):
    """A global name is not defined yet: translation is retried at the first launch."""


# ---------------------------------------------------------------------------------------------
# Values and types

class TupleT:
    __slots__ = ("elts",)

    def __init__(self, elts):
        self.elts = tuple(elts)

    @property
    def name(self):
        return "tuple"


class TypeAcc:
    """The type of a variable (or a func's result) from everything assigned to it: the join of
    the typed values; literals only widen an int to f64 or stand alone (i64 / f64)."""

    __slots__ = ("strong", "weak")

    def __init__(self):
        self.strong = None
        self.weak = set()

    def add(self, v):
        if v.weak:
            self.weak.add(v.type)
        else:
            self.strong = v.type if self.strong is None else join_types(self.strong, v.type)

    @property
    def type(self):
        if self.strong is None:
            return kt.f64 if kt.f64 in self.weak else kt.i64
        if self.strong.is_float or not any(w.is_float for w in self.weak):
            return self.strong
        return kt.f64


class Val:
    """A translated expression: C++ code, its type, and what we know about it."""

    __slots__ = ("code", "type", "weak", "pure", "const", "simple", "elts", "origin")

    def __init__(self, code, typ, *, weak=False, pure=True, const=None, simple=False, elts=None,
                 origin=frozenset()):
        self.code = code
        self.type = typ
        self.weak = weak          # a number literal: adopts the other operand's type
        self.pure = pure          # no side effects (no calls that write memory)
        self.const = const        # python value of a literal
        self.simple = simple      # a name or literal: can be repeated without a temp
        self.elts = elts          # for tuple values: list of Val
        self.origin = origin      # for arrays: which kernel parameters it may alias


def _tname(t):
    return t.name if t is not None else "?"


def _promote_small(t):
    return kt.i32 if t in (kt.u8, kt.boolean) else t


def join_types(a, b):
    """Type of an arithmetic result or of a variable assigned both."""
    if a is b:
        return a
    if a.is_float or b.is_float:
        if a.is_float and b.is_float:
            return kt.f64 if kt.f64 in (a, b) else kt.f32
        return a if a.is_float else b
    a, b = _promote_small(a), _promote_small(b)
    if a is b:
        return a
    return kt.i64


def _fits(value, t):
    if not isinstance(value, int) or isinstance(value, bool) or not t.is_int:
        return True
    if t.kind == "u":
        return 0 <= value < (1 << t.bits)
    return -(1 << (t.bits - 1)) <= value < (1 << (t.bits - 1))


def _adopt(weak, strong):
    t = strong.type
    if weak.type.is_float and not t.is_float:
        return kt.f64
    t = _promote_small(t)
    if not _fits(weak.const, t):  # a literal the other side's type cannot hold: widen
        return kt.i64
    return t


def arith_type(a, b):
    """(type, weak) of ``a op b`` for numbers, literals adopting the other side's type."""
    if a.weak and not b.weak:
        return _adopt(a, b), False
    if b.weak and not a.weak:
        return _adopt(b, a), False
    if a.type is b.type and a.type not in (kt.u8, kt.boolean):
        return a.type, a.weak and b.weak
    return join_types(_promote_small(a.type), _promote_small(b.type)), a.weak and b.weak


def render_const(value, t):
    if t.is_bool:
        return "true" if value else "false"
    if t.is_float:
        value = float(value)
        if value != value:
            return "ph_nan32()" if t is kt.f32 else "ph_nan64()"
        if value in (math.inf, -math.inf):
            s = "ph_inf32()" if t is kt.f32 else "ph_inf64()"
            return s if value > 0 else f"(-{s})"
        text = repr(value)
        if "e" not in text and "." not in text:
            text += ".0"
        if t is kt.f32:
            return f"{text}f" if value >= 0 else f"({text}f)"
        return text if value >= 0 else f"({text})"
    value = int(value)
    if t is kt.i64:
        if value == -(1 << 63):
            return "(-9223372036854775807LL - 1)"
        return f"{value}LL" if value >= 0 else f"({value}LL)"
    if t is kt.u32:
        return f"{value & 0xFFFFFFFF}u"
    if t is kt.u8:
        return f"(ph_u8){value & 0xFF}"
    if t is kt.i32 and value == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(value) if value >= 0 else f"({value})"


def cast(v, t):
    """C++ code of ``v`` converted to type ``t``."""
    if isinstance(t, kt.ArrayType):
        return v.code
    if v.const is not None and not isinstance(v.const, tuple):
        if t.is_int and isinstance(v.const, float):
            return f"(({t.ctype}){render_const(v.const, v.type)})"
        return render_const(v.const, t)
    if v.type is t:
        return v.code
    if t.is_bool:
        return f"({v.code} != 0)"
    if t.is_int and v.type.is_float:
        return f"(({t.ctype})ph_f2i({v.code}))" if t is not kt.i64 else f"ph_f2i({v.code})"
    return f"(({t.ctype}){v.code})"


# ---------------------------------------------------------------------------------------------
# Source of a python function

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


# ---------------------------------------------------------------------------------------------
# Syntax check: everything outside the supported subset is rejected at decoration time.

_ALLOWED_STMTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.While, ast.For,
                  ast.Break, ast.Continue, ast.Pass, ast.Return, ast.Expr)
_ALLOWED_EXPRS = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
                  ast.Constant, ast.Attribute, ast.Subscript, ast.Tuple)


def _construct_name(node):
    name = type(node).__name__
    return CONSTRUCT_NAMES.get(name, name)


def check_syntax(src):
    fn = src.tree
    if isinstance(fn, ast.AsyncFunctionDef):
        raise src.reject("async function", fn)
    args = fn.args
    if args.vararg or args.kwarg:
        raise src.reject("variable arguments (*args/**kwargs)", fn)
    if args.kwonlyargs or args.posonlyargs:
        raise src.reject("keyword-only or positional-only parameters", fn)
    if args.defaults:
        raise src.reject("default argument values", fn)
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    for stmt in body:
        _check_stmt(src, stmt)


def _check_stmt(src, node):
    if not isinstance(node, _ALLOWED_STMTS):
        raise src.reject(_construct_name(node), node)
    if isinstance(node, ast.For):
        if node.orelse:
            raise src.reject("else clause on a for loop", node.orelse[0])
        if not isinstance(node.target, ast.Name):
            raise src.reject("for loop with a tuple target", node.target,
                             "loop over range() into one name")
        it = node.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range"):
            raise src.reject("for loop over something other than range()", node)
    if isinstance(node, ast.While) and node.orelse:
        raise src.reject("else clause on a while loop", node.orelse[0])
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        raise src.reject(_constant_construct(node.value.value), node)
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            _check_stmt(src, child)
        elif isinstance(child, ast.expr):
            _check_expr(src, child)
        elif isinstance(child, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop,
                                ast.cmpop)):
            if type(child).__name__ in CONSTRUCT_NAMES:
                raise src.reject(CONSTRUCT_NAMES[type(child).__name__], node)


def _constant_construct(value):
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if value is None:
        return "None"
    if isinstance(value, complex):
        return "complex number"
    if value is Ellipsis:
        return "Ellipsis (...)"
    return "expression statement"


def _check_expr(src, node):
    if not isinstance(node, _ALLOWED_EXPRS):
        raise src.reject(_construct_name(node), node)
    if isinstance(node, ast.Constant) and not isinstance(node.value, (bool, int, float)):
        raise src.reject(_constant_construct(node.value), node)
    if isinstance(node, ast.BinOp) and type(node.op) not in _BINOP_SYMBOL:
        raise src.reject(_construct_name(node.op), node)
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMP_SYMBOL:
                raise src.reject(_construct_name(op), node)
    if isinstance(node, ast.Call):
        if node.keywords:
            raise src.reject("keyword arguments", node)
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            raise src.reject("call of a computed function", node)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        raise src.reject("slicing", node)
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            _check_expr(src, child)
        elif isinstance(child, ast.stmt):
            _check_stmt(src, child)


# ---------------------------------------------------------------------------------------------
# Translation of one function (a kernel body or one specialization of a func)

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
            value = self.call_tid(node.value, want=n)
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
            return self.resolve_object(v.func) is kb.tid
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
        from .core import Func, Kernel  # local import: core.py imports this module
        if isinstance(obj, Func):
            return self.call_func(obj, node)
        if isinstance(obj, Kernel):
            raise self.src.reject("calling a kernel from a kernel", node,
                                  f"make '{label}' a @pyhost.func")
        if obj is kb.tid:
            return self.call_tid(node)
        if obj is kb.atomic_add:
            return self.call_atomic_add(node)
        if obj is kb.random:
            args = self.call_args(node, 2, "random(seed, counter)")
            for a, n in zip(args, node.args):
                if not (a.type.is_int or a.type.is_bool):
                    raise self.err(f"random(seed, counter) takes integers, got {_tname(a.type)}",
                                   n)
            return Val(f"ph_random({cast(args[0], kt.i64)}, {cast(args[1], kt.i64)})", kt.f64)
        if isinstance(obj, kt.ScalarType):
            (v,) = self.call_args(node, 1, f"{label}(x)")
            return self.convert(v, obj, node)
        if obj in MATH_FUNCS:
            return self.call_math(obj, label, node)
        if obj is builtins.abs:
            (v,) = self.call_args(node, 1, "abs(x)")
            if v.type.is_float:
                return Val(f"ph_fabs({v.code})", v.type, pure=v.pure)
            t = _promote_small(v.type)
            if v.const is not None:
                return self.object_value(abs(v.const), node)
            return Val(f"ph_iabs({cast(v, t)})", t, pure=v.pure, weak=v.weak)
        if obj in (builtins.min, builtins.max):
            if len(node.args) < 2:
                raise self.err(f"{label}() in a kernel takes two or more numbers", node,
                               f"{label}() of an iterable")
            args = self.call_args(node, len(node.args), label)
            fn = "ph_min" if obj is builtins.min else "ph_max"
            acc = args[0]
            for v in args[1:]:
                t, weak = arith_type(acc, v)
                if acc.type.is_bool and v.type.is_bool:
                    t = kt.boolean
                acc = Val(f"{fn}<{t.ctype}>({cast(acc, t)}, {cast(v, t)})", t,
                          pure=acc.pure and v.pure, weak=weak)
            return acc
        if obj is builtins.int:
            (v,) = self.call_args(node, 1, "int(x)")
            return self.convert(v, kt.i64, node)
        if obj is builtins.float:
            (v,) = self.call_args(node, 1, "float(x)")
            return self.convert(v, kt.f64, node)
        if obj is builtins.bool:
            (v,) = self.call_args(node, 1, "bool(x)")
            return self.convert(v, kt.boolean, node)
        if obj is builtins.round:
            (v,) = self.call_args(node, 1, "round(x)")
            if v.type.is_float:
                return Val(f"ph_f2i(ph_rint({v.code}))", kt.i64, pure=v.pure)
            return self.convert(v, kt.i64, node)
        if obj is builtins.len:
            (v,) = self.call_args(node, 1, "len(x)", allow_arrays=True)
            if not isinstance(v.type, kt.ArrayType):
                raise self.err(f"len() of a {_tname(v.type)}", node)
            return Val(f"{v.code}.shape[0]", kt.i64, simple=True)
        if obj is math.log:
            if len(node.args) == 2:
                x, base = self.call_args(node, 2, "log(x, base)")
                t = self.float_type(x, base)
                return Val(f"(ph_log({cast(x, t)}) / ph_log({cast(base, t)}))", t,
                           pure=x.pure and base.pure)
            (x,) = self.call_args(node, 1, "log(x)")
            t = self.float_type(x)
            return Val(f"ph_log({cast(x, t)})", t, pure=x.pure)
        if obj is math.hypot:
            args = self.call_args(node, 2, "hypot(x, y)")
            t = self.float_type(*args)
            return Val(f"ph_hypot({cast(args[0], t)}, {cast(args[1], t)})", t,
                       pure=all(a.pure for a in args))
        if obj is range:
            raise self.src.reject("range() outside a for loop", node)
        name = getattr(obj, "__name__", label)
        raise self.src.reject(f"call to {name}()", node,
                              "kernels may call math functions, min/max/abs, int/float/bool, "
                              "pyhost.tid/atomic_add/random and @pyhost.func helpers")

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

    @staticmethod
    def float_type(*vals):
        strong = [v.type for v in vals if not v.weak]
        t = None
        for s in strong:
            s = s if s.is_float else kt.f64
            t = s if t is None else join_types(t, s)
        return t or kt.f64

    def call_math(self, obj, label, node):
        cname, arity, result = MATH_FUNCS[obj]
        args = self.call_args(node, arity, f"{label}()")
        if result == "int":
            (v,) = args
            if not v.type.is_float:
                return self.convert(v, kt.i64, node)
            return Val(f"ph_f2i({cname}({v.code}))", kt.i64, pure=v.pure)
        t = self.float_type(*args)
        if result == "bool":
            return Val(f"{cname}((ph_f64){args[0].code})", kt.boolean, pure=args[0].pure)
        return Val(f"{cname}({', '.join(cast(a, t) for a in args)})", t,
                   pure=all(a.pure for a in args))

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

    def call_tid(self, node, want=None):
        if not self.kernel:
            raise self.src.reject("pyhost.tid() in a @pyhost.func", node,
                                  "pass the index from the kernel")
        if node.args:
            raise self.err("tid() takes no arguments", node)
        dims = want or 1
        if self.dims is not None and self.dims != dims:
            raise self.err(f"tid() is used as {dims}-D here but as {self.dims}-D at line "
                           f"{self.src.lineno(self.dims_node)}", node, "tid dimensions")
        self.dims, self.dims_node = dims, node
        if dims == 1:
            return Val("ph_t0", kt.i64, simple=True)
        elts = [Val(f"ph_t{k}", kt.i64, simple=True) for k in range(dims)]
        return Val(None, TupleT([kt.i64] * dims), elts=elts)

    def call_atomic_add(self, node):
        if len(node.args) != 3:
            raise self.err("atomic_add(array, index, value) takes 3 arguments", node)
        arr = self.expr(node.args[0])
        if not isinstance(arr.type, kt.ArrayType):
            raise self.err(f"atomic_add: first argument must be an array, got "
                           f"{_tname(arr.type)}", node.args[0])
        dt = arr.type.dtype
        if dt not in (kt.f32, kt.f64, kt.i32, kt.u32, kt.i64):
            raise self.err(f"atomic_add on {dt.name} arrays is not supported (use f32, f64, "
                           f"i32, u32 or i64)", node, "atomic_add type")
        inode = node.args[1]
        index = self.expr(inode)
        idx = index.elts if isinstance(index.type, TupleT) else [index]
        if len(idx) != arr.type.ndim:
            raise self.err(f"atomic_add: the array has {arr.type.ndim} dimension(s) and needs "
                           f"{arr.type.ndim} index(es), got {len(idx)}", inode)
        for i in idx:
            if not isinstance(i.type, kt.ScalarType) or not (i.type.is_int or i.type.is_bool):
                raise self.err(f"array indices must be integers, not {_tname(i.type)}", inode)
        value = self.expr(node.args[2])
        if not isinstance(value.type, kt.ScalarType):
            raise self.err("atomic_add: value must be a number", node.args[2])
        if not (all(i.pure for i in idx) and value.pure):
            idx = [self.force_tmp(i) for i in idx]
            value = self.force_tmp(value)
        self.mark_written(arr)
        self.impure = True
        sid = self.site(node, ERR_INDEX,
                        f"index out of range for '{ast.unparse(node.args[0])}' in atomic_add")
        args = ", ".join(cast(i, kt.i64) if i.const is not None else i.code for i in idx)
        return Val(f"ph_atomic_add({arr.code}, {sid}, ph_err, {cast(value, dt)}, {args})", dt,
                   pure=False)

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


def ctype(t):
    if isinstance(t, kt.ArrayType):
        return f"ph_array<{t.dtype.ctype}, {t.ndim}>"
    return t.ctype




# ---------------------------------------------------------------------------------------------
# A whole kernel

class Translation:
    """The generated code of one kernel and what the host needs to launch it."""

    def __init__(self, name, cname, source, params, writable, dims, sites):
        self.name = name
        self.cname = cname
        self.source = source          # kernel part (funcs, body, entry points)
        self.params = params          # [(name, type)]
        self.writable = writable      # [bool] per parameter
        self.dims = dims              # 1, 2, 3 or None when tid() is not used
        self.sites = sites            # id -> (kind, filename, lineno, line, detail, fn)
        self.lanes = False            # the CPU build runs batches of indices (lanes.py)
        self.lanes_note = ""          # ... or why not

    @property
    def full_source(self):
        from .prelude import PRELUDE
        if not self.lanes:
            return PRELUDE + "\n" + self.source
        from .lanes_prelude import LANES_PRELUDE
        return PRELUDE + LANES_PRELUDE + "\n" + self.source

    def cpu_source(self, lanes=True):
        """The translation unit of the CPU build; ``lanes=False``: the scalar loop only."""
        return f"#define PH_LANES_WANTED {1 if lanes else 0}\n" + self.full_source


def _sanitize(name):
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def translate_kernel(src, param_types):
    unit = Unit()
    base = _sanitize(src.name)
    body_name = f"ph_body_{base}"
    scalar = FnTranslator(unit, src, param_types, kernel=True, cname=body_name)
    result = scalar.run()
    # Funcs in dependency order (callees first), only those reachable in the final code.
    order, seen = [], set()

    def visit(keys):
        for key in sorted(keys, key=lambda k: unit.specs[k].cname):
            if key in seen:
                continue
            seen.add(key)
            visit(unit.specs[key].calls)
            order.append(unit.specs[key])

    visit(result.calls)
    writable = [i in result.written for i in range(len(param_types))]
    params = list(zip(result.params and [p for p, _ in result.params], param_types))
    parts = [f"// ---- generated by pyhost from {src.filename}:{src.lineno(src.tree)} "
             f"(@pyhost.kernel {src.name}) ----"]
    parts.extend(f.code for f in order)
    parts.append(result.code)
    decl = ", ".join(f"{ctype(t)} {mangle(n)}" for n, t in params)
    call = ", ".join(mangle(n) for n, _ in params)
    sep = ", " if call else ""
    dims = result.dims
    decompose = {
        1: "const ph_i64 ph_x = ph_f, ph_y = 0, ph_z = 0;",
        2: "const ph_i64 ph_x = ph_f % ph_n0, ph_y = ph_f / ph_n0, ph_z = 0;",
    }.get(dims, "const ph_i64 ph_x = ph_f % ph_n0, ph_r = ph_f / ph_n0, ph_y = ph_r % ph_n1, "
                "ph_z = ph_r / ph_n1;")
    kparams = decl + sep + "ph_i64 ph_n0, ph_i64 ph_n1, ph_i64 ph_n2, int* ph_err"
    parts.append(f"""#if PH_CUDA
extern "C" __global__ void ph_k_{base}({kparams}) {{
  const ph_i64 ph_total = ph_n0 * ph_n1 * ph_n2;
  for (ph_i64 ph_f = (ph_i64)blockIdx.x * blockDim.x + threadIdx.x; ph_f < ph_total;
       ph_f += (ph_i64)gridDim.x * blockDim.x) {{
    {decompose}
    {body_name}(ph_err, ph_x, ph_y, ph_z{sep}{call});
  }}
}}
#else""")
    # The CPU build: a direct loop the compiler vectorises (direct.py, loop-free kernels), else
    # whole batches of lanes (lanes.py), and the checked scalar loop for whatever they leave.
    # ph_lanes_<name>() tells the host the batch size its chunks should be made of.
    from .direct import LOOPLESS_NOTE, direct_kernel, direct_loop
    from .lanes import LaneCode, cpu_batch_loop, lane_kernel
    direct = direct_kernel(scalar, result, base)
    if direct.code is None:
        lane = lane_kernel(scalar, result, base)
    else:
        lane = LaneCode(None, LOOPLESS_NOTE)
    parts.append(direct.note)
    if direct.code is not None:
        parts.append(direct.code)
    parts.append(lane.note)
    if lane.code is not None:
        parts.append(lane.code)
    parts.append(f"""extern "C" void ph_c_{base}(void** ph_args, ph_i64 ph_begin, ph_i64 ph_end,
                            const ph_i64* ph_dims, int* ph_err) {{
  const ph_i64 ph_n0 = ph_dims[0], ph_n1 = ph_dims[1];
  (void)ph_n0; (void)ph_n1;""")
    for k, (n, t) in enumerate(params):
        parts.append(f"  {ctype(t)} {mangle(n)} = *({ctype(t)}*)ph_args[{k}];")
    fast = direct_loop(direct, base, call, dims) if direct.code is not None else \
        cpu_batch_loop(lane, base, call, dims)
    lanes_on = "PH_LANES_ON ? PH_L : 1" if lane.code is not None else "1"
    loop = ('PH_LANES_WANTED ? "direct" : "scalar"' if direct.code is not None else
            'PH_LANES_ON ? "lanes" : "scalar"' if lane.code is not None else '"scalar"')
    parts.append(f"""  ph_i64 ph_f = ph_begin;
{fast}  for (; ph_f < ph_end; ++ph_f) {{
    {decompose}
    {body_name}(ph_err, ph_x, ph_y, ph_z{sep}{call});
  }}
}}
extern "C" int ph_lanes_{base}(void) {{ return {lanes_on}; }}
extern "C" const char* ph_loop_{base}(void) {{ return {loop}; }}
#endif
""")
    source = "\n".join(parts)
    sites = list(unit.site_info)
    tr = Translation(src.name, base, source, params, writable, dims, sites)
    tr.lanes = lane.code is not None
    tr.lanes_note = lane.note
    return tr
