"""NumPy's elementwise math ufuncs inside ``@cuda.jit`` kernels, as Numba's CUDA target has
them: on numbers (``np.sqrt(x[i])``: as ``math.sqrt``, float32 stays float32) and on arrays
with the output given (``np.sin(x, r)``, ``np.add(a, b, out)``: one thread computes every
element, numbers broadcast, arrays must have the output's shape). Entries of the kernels'
intrinsics table, one per ufunc.
"""
import ast

import numpy as np

from .._kernels import intrinsics as ki
from .._kernels import types as kt
from .._kernels.intrinsics import ERR_VALUE, float_type
from .._kernels.typing_rules import Val, _tname, arith_type, cast

# ufunc -> C function of the prelude (ph_<name>, float in, float out)
_FLOAT1 = {np.sin: "ph_sin", np.cos: "ph_cos", np.tan: "ph_tan", np.arcsin: "ph_asin",
           np.arccos: "ph_acos", np.arctan: "ph_atan", np.sinh: "ph_sinh", np.cosh: "ph_cosh",
           np.tanh: "ph_tanh", np.arcsinh: "ph_asinh", np.arccosh: "ph_acosh",
           np.arctanh: "ph_atanh", np.exp: "ph_exp", np.exp2: "ph_exp2", np.expm1: "ph_expm1",
           np.log: "ph_log", np.log2: "ph_log2", np.log10: "ph_log10", np.log1p: "ph_log1p",
           np.sqrt: "ph_sqrt", np.cbrt: "ph_cbrt", np.fabs: "ph_fabs", np.floor: "ph_floor",
           np.ceil: "ph_ceil", np.trunc: "ph_trunc", np.rint: "ph_rint"}
_FLOAT2 = {np.arctan2: "ph_atan2", np.hypot: "ph_hypot", np.fmod: "ph_fmod",
           np.copysign: "ph_copysign"}
_ARITH = {np.add: "+", np.subtract: "-", np.multiply: "*"}
_SIMPLE = {np.negative: "neg", np.absolute: "abs", np.square: "square",
           np.reciprocal: "reciprocal", np.true_divide: "div", np.divide: "div",
           np.power: "pow", np.maximum: "max", np.minimum: "min", np.fmax: "max",
           np.fmin: "min"}


def _element(tr, fn, vals, node):
    """The C++ of ``fn`` on the numbers ``vals`` (Vals), and its type."""
    if fn in _FLOAT1 or fn in _FLOAT2:
        t = float_type(*vals)
        return f"{(_FLOAT1.get(fn) or _FLOAT2[fn])}({', '.join(cast(v, t) for v in vals)})", t
    if fn in _ARITH:
        a, b = vals
        t, _ = arith_type(a, b)
        return f"({cast(a, t)} {_ARITH[fn]} {cast(b, t)})", t
    op = _SIMPLE[fn]
    if op in ("neg", "abs", "square", "reciprocal"):
        (a,) = vals
        t = a.type if not a.type.is_bool else kt.i64
        if op == "neg":
            return f"(-{cast(a, t)})", t
        if op == "abs":
            return (f"ph_fabs({a.code})" if t.is_float else f"ph_iabs({cast(a, t)})"), t
        if op == "square":
            return f"({cast(a, t)} * {cast(a, t)})", t
        return f"(({t.ctype})1 / {cast(a, t)})", t
    a, b = vals
    t, _ = arith_type(a, b)
    if op == "div":
        t = t if t.is_float else kt.f64
        return f"({cast(a, t)} / {cast(b, t)})", t
    if op == "pow":
        if not t.is_float:
            raise tr.err("np.power of integers in a kernel: convert to float first", node)
        return f"ph_pow({cast(a, t)}, {cast(b, t)})", t
    return f"ph_{op}<{t.ctype}>({cast(a, t)}, {cast(b, t)})", t


def _lower(fn, nin):
    name = f"np.{fn.__name__}"

    def lower(tr, node, label):
        if len(node.args) not in (nin, nin + 1):
            raise tr.err(f"{name}() takes {nin} input(s) and an optional output array, got "
                         f"{len(node.args)} argument(s)", node)
        args = tr.call_args(node, len(node.args), f"{name}()", allow_arrays=True)
        ins, out = args[:nin], (args[nin] if len(args) > nin else None)
        arrays = [a for a in ins if isinstance(a.type, kt.ArrayType)]
        if out is None:
            if arrays:
                raise tr.err(f"{name}() of an array in a kernel needs the output array: "
                             f"{name}({', '.join(['x'] * nin)}, out)", node, "ufunc output")
            code, t = _element(tr, fn, ins, node)
            return Val(code, t, pure=all(a.pure for a in ins))
        from ._builtins import _not_on_lanes
        _not_on_lanes(tr, f"{name}() on arrays")
        if not isinstance(out.type, kt.ArrayType):
            raise tr.err(f"the output of {name}() is a {_tname(out.type)}, expected an array",
                         node.args[nin], "ufunc output")
        for a, an in zip(arrays, node.args):
            if a.type.ndim != out.type.ndim:
                raise tr.err(f"{name}(): '{ast.unparse(an)}' has {a.type.ndim} dimension(s) "
                             f"and the output {out.type.ndim}", an, "ufunc shapes")
        # one loop over the elements (kernel arrays are C-contiguous)
        tr.tmp_count += 1
        k = f"ph_uk{tr.tmp_count}"
        elems = [Val(f"{a.code}.data[{k}]", a.type.dtype, simple=True)
                 if isinstance(a.type, kt.ArrayType) else a for a in ins]
        code, _ = _element(tr, fn, elems, node)
        sid = tr.site(node, ERR_VALUE, f"{name}(): the arrays' shapes differ from the "
                                       f"output's")
        size = " * ".join(f"{out.code}.shape[{d}]" for d in range(out.type.ndim))
        differ = " || ".join(f"{a.code}.shape[{d}] != {out.code}.shape[{d}]"
                             for a in arrays for d in range(out.type.ndim)) or "false"
        tr.mark_written(out)
        tr.impure = True
        tr.emit(f"if ({differ}) {{ ph_fail(ph_err, {sid}); }} else {{")
        tr.emit(f"  for (ph_i64 {k} = 0; {k} < {size}; ++{k}) "
                f"{out.code}.data[{k}] = ({out.type.dtype.ctype}){code};")
        tr.emit("}")
        return Val("((void)0)", None)
    return lower


def _register():
    for fn in list(_FLOAT1) + list(_ARITH) + list(_FLOAT2) + list(_SIMPLE):
        if ki.lookup(fn) is None:
            nin = fn.nin
            ki.register(fn, _lower(fn, nin), name=f"numpy.{fn.__name__}")


_register()
