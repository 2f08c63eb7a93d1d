"""Stage 1: the syntax check. Everything outside the supported subset of Python is rejected when
the function is decorated, with the construct named and the line shown."""
import ast

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
