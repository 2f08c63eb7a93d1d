"""``@cuda.vectorize`` and ``@cuda.guvectorize`` (Numba's CUDA ufuncs) with signature lists.

A vectorized function becomes a kernel of one thread per element (``out[i] = f(a[i], b[i])``);
a generalized one a kernel of one thread per element of the loop dimensions, calling the
function on that element's core arrays: the function is translated with every array parameter
given a leading index (``a[j, k]`` is ``a[i, j, k]`` for loop element ``i``), as the kernel
subset has no array views. The arguments are matched against the signatures in order (the first
one that numpy's safe casting allows), broadcast over the loop dimensions and converted to its
types; numpy arrays give numpy results, device arrays device arrays.
"""
import ast
import copy
import re

import numpy as np

from .._kernels.errors import KernelLaunchError
from . import _types
from ._arrays import DeviceNDArray
from ._builtins import grid
from ._dispatcher import DeviceFunction, jit, split_arguments

_NP = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
       "uint32": np.uint32, "uint8": np.uint8, "boolean": np.bool_, "bool_": np.bool_,
       "f4": np.float32, "f8": np.float64, "i4": np.int32, "i8": np.int64, "u4": np.uint32,
       "u1": np.uint8, "double": np.float64, "intp": np.int64, "b1": np.bool_}


def _parse_one(text):
    """``"float32[:, :]"`` -> (numpy dtype, ndim)."""
    text = text.strip()
    ndim = 0
    if text.endswith("]"):
        text, _, dims = text.partition("[")
        ndim = dims.count(",") + 1
    if text.strip() not in _NP:
        raise TypeError(f"unsupported type {text!r} in a ufunc signature")
    return np.dtype(_NP[text.strip()]), ndim


def parse_signature(sig):
    """``"float32(float32, float32)"`` or ``float32(float32, float32)`` -> (ret, [args]) with
    each a (dtype, ndim); ret is None for void."""
    if isinstance(sig, _types.Signature):
        conv = [(t.dtype_t.dtype, t.ndim) if isinstance(t, _types.NumbaArray) else (t.dtype, 0)
                for t in sig.args]
        return ((sig.ret.dtype, 0) if sig.ret is not None else None), conv
    m = re.fullmatch(r"\s*(\w+)\s*\((.*)\)\s*", str(sig))
    if not m:
        raise TypeError(f"ufunc signatures look like \"float32(float32, float32)\", got {sig!r}")
    ret = None if m.group(1) == "void" else _parse_one(m.group(1))
    return ret, [_parse_one(a) for a in split_arguments(m.group(2))]


def _host(x):
    return x._a if isinstance(x, DeviceNDArray) else x


def _matches(values, types):
    for v, (dt, _) in zip(values, types):
        if isinstance(v, np.ndarray) or isinstance(v, np.generic):
            if not np.can_cast(v.dtype, dt, "safe"):
                return False
        elif isinstance(v, bool):
            if dt.kind != "b":
                return False
        elif isinstance(v, int):
            if dt.kind not in "iuf":
                return False
        elif isinstance(v, float):
            if dt.kind != "f":
                return False
        else:
            return False
    return True


def _select(name, sigs, values):
    for ret, types in sigs:
        if len(types) >= len(values) and _matches(values, types[:len(values)]):
            return ret, types
    got = ", ".join(str(getattr(v, "dtype", type(v).__name__)) for v in values)
    raise KernelLaunchError(f"ufunc '{name}': no signature matches the arguments ({got})")


# ---- vectorize ------------------------------------------------------------------------------

def _elementwise_kernel(op, nin):
    if nin == 1:
        @jit
        def vectorized1(a0, out):
            i = grid(1)
            if i < out.shape[0]:
                out[i] = op(a0[i])
        return vectorized1
    if nin == 2:
        @jit
        def vectorized2(a0, a1, out):
            i = grid(1)
            if i < out.shape[0]:
                out[i] = op(a0[i], a1[i])
        return vectorized2
    if nin == 3:
        @jit
        def vectorized3(a0, a1, a2, out):
            i = grid(1)
            if i < out.shape[0]:
                out[i] = op(a0[i], a1[i], a2[i])
        return vectorized3
    if nin == 4:
        @jit
        def vectorized4(a0, a1, a2, a3, out):
            i = grid(1)
            if i < out.shape[0]:
                out[i] = op(a0[i], a1[i], a2[i], a3[i])
        return vectorized4
    raise TypeError("@cuda.vectorize functions take 1 to 4 arguments here")


class Vectorized:
    """A ``@cuda.vectorize`` ufunc: ``f(a, b)`` on numpy arrays, device arrays and numbers."""

    def __init__(self, pyfunc, sigs):
        self.py_func = pyfunc
        self.__name__ = pyfunc.__name__
        self.__doc__ = pyfunc.__doc__
        self.nin = pyfunc.__code__.co_argcount
        self._sigs = [parse_signature(s) for s in sigs]
        for ret, types in self._sigs:
            if ret is None or len(types) != self.nin or any(nd for _, nd in types):
                raise TypeError(f"@cuda.vectorize '{self.__name__}': signatures take "
                                f"{self.nin} scalar(s) and return a scalar")
        self._kernel = _elementwise_kernel(DeviceFunction(pyfunc), self.nin)

    def __call__(self, *args, out=None, stream=0):
        if len(args) != self.nin:
            raise TypeError(f"ufunc '{self.__name__}' takes {self.nin} argument(s), got "
                            f"{len(args)}")
        device = any(isinstance(a, DeviceNDArray) for a in args)
        values = [_host(a) for a in args]
        ret, types = _select(self.__name__, self._sigs, values)
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        ins = [np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=dt), shape),
                                    dtype=dt).reshape(-1) for v, (dt, _) in zip(values, types)]
        result = np.empty(shape, dtype=ret[0])
        n = result.size
        if n:
            self._kernel[(n + 127) // 128, 128](*ins, result.reshape(-1))
        if out is not None:
            _host(out)[...] = result
            return out
        if not shape:
            return result[()]
        return DeviceNDArray(result) if device else result

    def __repr__(self):
        return f"<pyhost.cuda.vectorize {self.__name__}>"


def vectorize(sigs, target="cuda", **kws):
    """``@cuda.vectorize(["float32(float32, float32)", ...])``."""
    if callable(sigs) and not isinstance(sigs, (str, _types.Signature)):
        raise TypeError("@cuda.vectorize needs its signatures: @cuda.vectorize(['f8(f8)'])")
    sigs = [sigs] if isinstance(sigs, (str, _types.Signature)) else list(sigs)
    return lambda fn: Vectorized(fn, sigs)


# ---- guvectorize ----------------------------------------------------------------------------

def _parse_layout(layout):
    """``"(m,n),(n)->(m)"`` -> ([("m", "n"), ("n",)], [("m",)])."""
    ins, arrow, outs = layout.replace(" ", "").partition("->")
    if not arrow:
        raise TypeError(f"a gufunc layout looks like \"(m,n),(n)->(m)\", got {layout!r}")

    def groups(text):
        found = re.findall(r"\(([^()]*)\)", text)
        return [tuple(d for d in g.split(",") if d) for g in found]
    return groups(ins), groups(outs)


class _Lead(ast.NodeTransformer):
    """Gives every array parameter a leading index (the loop element) and reads a scalar
    parameter at it."""

    def __init__(self, arrays, scalars, index):
        self.arrays, self.scalars, self.index = arrays, scalars, index

    def _idx(self, node):
        return ast.copy_location(ast.Name(id=self.index, ctx=ast.Load()), node)

    def visit_Subscript(self, node):
        self.generic_visit(node)
        v = node.value
        if isinstance(v, ast.Name) and v.id in self.arrays:
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            node.slice = ast.copy_location(
                ast.Tuple(elts=[self._idx(node)] + list(elts), ctx=ast.Load()), node)
        elif isinstance(v, ast.Attribute) and v.attr == "shape" and \
                isinstance(v.value, ast.Name) and v.value.id in self.arrays and \
                isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
            return node   # handled in visit_Attribute: a tuple of the core dims
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr == "shape" and isinstance(node.value, ast.Name) and \
                node.value.id in self.arrays:
            nd = self.arrays[node.value.id]
            elts = []
            for d in range(1, nd + 1):
                sub = ast.Subscript(value=ast.Attribute(value=ast.Name(id=node.value.id,
                                                                       ctx=ast.Load()),
                                                        attr="shape", ctx=ast.Load()),
                                    slice=ast.Constant(d), ctx=ast.Load())
                elts.append(sub)
            new = ast.Tuple(elts=elts, ctx=ast.Load())
            for n in ast.walk(new):
                ast.copy_location(n, node)
            return new
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Name) and node.args[0].id in self.arrays:
            new = ast.Subscript(value=ast.Attribute(value=node.args[0], attr="shape",
                                                    ctx=ast.Load()),
                                slice=ast.Constant(1), ctx=ast.Load())
            for n in ast.walk(new):
                ast.copy_location(n, node)
            return new
        return node

    def visit_Name(self, node):
        if node.id in self.scalars and isinstance(node.ctx, ast.Load):
            new = ast.Subscript(value=ast.Name(id=node.id, ctx=ast.Load()),
                                slice=self._idx(node), ctx=ast.Load())
            for n in ast.walk(new):
                ast.copy_location(n, node)
            return new
        return node


def _core_func(pyfunc, ndims):
    """``pyfunc`` as a ``@pyhost.func`` taking the loop element first, each parameter with one
    more (leading) dimension than its core (``ndims``)."""
    from .._kernels.core import Func
    from .._kernels.source import FunctionSource
    from .._kernels.translator import check_syntax
    src = FunctionSource(pyfunc, "func")
    params = [a.arg for a in src.tree.args.args]
    arrays = {p: nd for p, nd in zip(params, ndims) if nd}
    scalars = {p for p, nd in zip(params, ndims) if not nd}
    assigned = {n.id for n in ast.walk(src.tree) if isinstance(n, ast.Name) and
                isinstance(n.ctx, ast.Store)}
    if scalars & assigned:
        raise src.reject("assigning a scalar parameter of a gufunc", src.tree)
    body = [_Lead(arrays, scalars, "_ph_gu_i").visit(copy.deepcopy(s)) for s in src.tree.body]
    src.tree.body = [ast.fix_missing_locations(s) for s in body]
    first = ast.arg(arg="_ph_gu_i")
    ast.copy_location(first, src.tree)
    src.tree.args.args.insert(0, first)
    check_syntax(src)
    f = Func.__new__(Func)
    f._pyfunc = pyfunc
    f.__name__ = pyfunc.__name__
    f._src = src
    f._types = {}
    return f


def _gu_kernel(op, nargs):
    if nargs == 2:
        @jit
        def gufunc2(a0, a1, n):
            i = grid(1)
            if i < n:
                op(i, a0, a1)
        return gufunc2
    if nargs == 3:
        @jit
        def gufunc3(a0, a1, a2, n):
            i = grid(1)
            if i < n:
                op(i, a0, a1, a2)
        return gufunc3
    if nargs == 4:
        @jit
        def gufunc4(a0, a1, a2, a3, n):
            i = grid(1)
            if i < n:
                op(i, a0, a1, a2, a3)
        return gufunc4
    if nargs == 5:
        @jit
        def gufunc5(a0, a1, a2, a3, a4, n):
            i = grid(1)
            if i < n:
                op(i, a0, a1, a2, a3, a4)
        return gufunc5
    raise TypeError("@cuda.guvectorize functions take 2 to 5 arguments here")


class GUVectorized:
    """A ``@cuda.guvectorize`` gufunc: ``f(a, b)`` returns the outputs (or fills the ones
    passed after the inputs)."""

    def __init__(self, pyfunc, sigs, layout):
        self.py_func = pyfunc
        self.__name__ = pyfunc.__name__
        self.__doc__ = pyfunc.__doc__
        self._ins, self._outs = _parse_layout(layout)
        nargs = len(self._ins) + len(self._outs)
        if pyfunc.__code__.co_argcount != nargs:
            raise TypeError(f"@cuda.guvectorize '{self.__name__}': the layout {layout!r} has "
                            f"{nargs} arguments, the function {pyfunc.__code__.co_argcount}")
        self._sigs = [parse_signature(s) for s in sigs]
        for ret, types in self._sigs:
            if ret is not None or len(types) != nargs:
                raise TypeError(f"@cuda.guvectorize '{self.__name__}': signatures are "
                                f"void(...) of {nargs} arguments")
        # what the function sees: a '()' output is a 1-element array (out[0] = ...)
        self._ndims = [nd for _, nd in self._sigs[0][1]]
        self._kernel = _gu_kernel(_core_func(pyfunc, self._ndims), nargs)

    def __call__(self, *args, stream=0):
        nin, nout = len(self._ins), len(self._outs)
        if len(args) not in (nin, nin + nout):
            raise TypeError(f"gufunc '{self.__name__}' takes {nin} input(s) (and optionally "
                            f"{nout} output(s)), got {len(args)}")
        device = any(isinstance(a, DeviceNDArray) for a in args)
        values = [np.asarray(_host(a)) for a in args[:nin]]
        _, types = _select(self.__name__, self._sigs, values)
        dims, loops = {}, []
        for v, core, name in zip(values, self._ins, range(nin)):
            if v.ndim < len(core):
                raise ValueError(f"gufunc '{self.__name__}': input {name} has {v.ndim} "
                                 f"dimension(s), its core {core} needs {len(core)}")
            shape = v.shape[v.ndim - len(core):]
            for d, size in zip(core, shape):
                if dims.setdefault(d, size) != size:
                    raise ValueError(f"gufunc '{self.__name__}': dimension {d!r} is "
                                     f"{dims[d]} and {size}")
            loops.append(v.shape[:v.ndim - len(core)])
        loop = np.broadcast_shapes(*loops)
        n = int(np.prod(loop, dtype=np.int64))
        ins = []
        for v, core, (dt, _) in zip(values, self._ins, types):
            full = np.broadcast_to(v.astype(dt, copy=False), loop + v.shape[v.ndim - len(core):])
            ins.append(np.ascontiguousarray(full).reshape((n,) + full.shape[len(loop):]))
        outs = []
        for core, (dt, _) in zip(self._outs, types[nin:]):
            missing = [d for d in core if d not in dims]
            if missing:
                raise ValueError(f"gufunc '{self.__name__}': output dimension(s) {missing} "
                                 f"are not given by the inputs")
            one = not core and self._ndims[nin + len(outs)] == 1
            outs.append(np.zeros((n,) + (tuple(dims[d] for d in core) or (1,) * one),
                                 dtype=dt))
        if n:
            self._kernel[(n + 127) // 128, 128](*ins, *outs, n)
        results = [o.reshape(loop + (o.shape[1:] if core else ()))
                   for o, core in zip(outs, self._outs)]
        if len(args) == nin + nout:
            for dest, r in zip(args[nin:], results):
                _host(dest)[...] = r
            return None
        if device:
            results = [DeviceNDArray(r) for r in results]
        return results[0] if nout == 1 else tuple(results)

    def __repr__(self):
        return f"<pyhost.cuda.guvectorize {self.__name__}>"


def guvectorize(sigs, layout, target="cuda", **kws):
    """``@cuda.guvectorize(["void(float32[:], float32[:])"], "(n)->(n)")``."""
    sigs = [sigs] if isinstance(sigs, (str, _types.Signature)) else list(sigs)
    return lambda fn: GUVectorized(fn, sigs, layout)
