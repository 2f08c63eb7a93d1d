"""The CUDA builtins of ``pyhost.cuda`` as entries of the kernel intrinsics table (the
translation of a ``@cuda.jit`` function for one signature and block shape is ``_compile.py``).

The launch ``k[blocks, threads]`` runs ``blocks * threads`` indices per dimension
(``pyhost.tid()``); the block shape is a constant of the translation, the grid arrives as three
hidden int64 parameters. So ``cuda.grid(n)`` is ``tid()``, ``threadIdx.x`` is
``tid_x % blockDim.x``, ``blockIdx.x`` is ``tid_x // blockDim.x``.
"""
import ast
import functools
import threading

from .._kernels import intrinsics as ki
from .._kernels import types as kt
from .._kernels.intrinsics import intrinsic, register
from .._kernels.typing_rules import TupleT, Val, _tname, cast
from ._barrier_builtins import _local_array, _shared_array, syncthreads
from ._grid import grid_sync
from ._source_utils import TX

GRID_PARAMS = ("_ph_cuda_g0", "_ph_cuda_g1", "_ph_cuda_g2")

_ctx = threading.local()   # .ndim, .block while a @cuda.jit function is translated


def _context(tr, node, what):
    ndim = getattr(_ctx, "ndim", None)
    if ndim is None or not tr.kernel:
        raise tr.src.reject(f"{what} outside a @cuda.jit kernel", node,
                            "pass the index from the kernel to device functions")
    if tr.dims is None:
        tr.dims, tr.dims_node = ndim, node
    return ndim, _ctx.block


def _block_mode():
    """True while a kernel with barriers is translated with one engine index per block
    (``_blocks.py``): the thread index is the loop variable of the block's thread loops."""
    return getattr(_ctx, "mode", None) == "block"


def _grid_mode():
    """A cooperative kernel (``_grid.py``): its thread loops run over the whole launch."""
    return getattr(_ctx, "grid", None) is not None


def _loop_index(tr, axis, node):
    """The thread loop's variable of ``axis``: the thread in the block (block mode), in the
    launch (grid mode)."""
    name = ast.copy_location(ast.Name(id=TX[axis], ctx=ast.Load()), node)
    return tr.expr(name)


def _thread_index(tr, axis, node):
    v = _loop_index(tr, axis, node)
    b = _ctx.block[axis]
    if _grid_mode():
        return Val(f"({v.code} % {b}LL)" if b > 1 else "0LL", kt.i64)
    return v


def _block_index(tr, axis, node):
    if _grid_mode():
        v = _loop_index(tr, axis, node)
        b = _ctx.block[axis]
        return Val(f"({v.code} / {b}LL)" if b > 1 else v.code, kt.i64)
    return Val(f"ph_t{axis}" if axis < _ctx.ndim else "0LL", kt.i64, simple=True)


def _not_on_lanes(tr, why):
    """Raise NotBatchable in the lanes pass (the checked scalar loop runs the kernel)."""
    from .._kernels.lanes import LaneTranslator, NotBatchable
    if isinstance(tr, LaneTranslator):
        raise NotBatchable(why)


# ---- cuda.grid, cuda.gridsize ---------------------------------------------------------------

def grid(ndim):
    """The absolute index of this thread: an int (``grid(1)``) or a tuple."""
    raise RuntimeError("cuda.grid() is only meaningful inside a @cuda.jit kernel")


def gridsize(ndim):
    """The number of threads in the grid: an int (``gridsize(1)``) or a tuple."""
    raise RuntimeError("cuda.gridsize() is only meaningful inside a @cuda.jit kernel")


def _grid_is_tid(call):
    """``cuda.grid(1)`` is the launch index (``pyhost.tid()``) except in block mode: 1-D
    kernels get the direct loop and the lanes. Not ``grid(2)``/``grid(3)``: CUDA code indexes
    ``a[x, y]`` with x, the fastest index of the launch, first, so lanes of consecutive x
    gather across rows (the plain matmul ran 3x slower than its scalar loop)."""
    return not _block_mode() and len(call.args) == 1 and not call.keywords and \
        isinstance(call.args[0], ast.Constant) and call.args[0].value == 1


grid._kernel_tid_alias = _grid_is_tid


def _ndim_arg(tr, node, name):
    if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or \
            node.args[0].value not in (1, 2, 3):
        raise tr.err(f"{name}(n) takes a constant 1, 2 or 3", node, name)
    return node.args[0].value


@intrinsic(grid, name="cuda.grid")
def lower_grid(tr, node, label):
    n = _ndim_arg(tr, node, "cuda.grid")
    ndim, _ = _context(tr, node, "cuda.grid()")
    if n != ndim:
        raise tr.err(f"cuda.grid({n}) in a kernel launched with {ndim}-D blocks", node,
                     "cuda.grid dimensions")
    if _block_mode():
        _not_on_lanes(tr, "cuda.grid() in a kernel with barriers")
        _, block = _ctx.ndim, _ctx.block
        elts = [Val(f"(ph_t{a} * {block[a]}LL + {_loop_index(tr, a, node).code})", kt.i64)
                if not _grid_mode() else _loop_index(tr, a, node) for a in range(n)]
        return elts[0] if n == 1 else Val(None, TupleT([kt.i64] * n), elts=elts)
    if n == 1:
        return Val("ph_t0", kt.i64, simple=True)
    return Val(None, TupleT([kt.i64] * n),
               elts=[Val(f"ph_t{k}", kt.i64, simple=True) for k in range(n)])


def _grid_param(tr, axis, node):
    name = ast.Name(id=GRID_PARAMS[axis], ctx=ast.Load())
    ast.copy_location(name, node)
    return tr.expr(name)


@intrinsic(gridsize, name="cuda.gridsize")
def lower_gridsize(tr, node, label):
    n = _ndim_arg(tr, node, "cuda.gridsize")
    ndim, block = _context(tr, node, "cuda.gridsize()")
    elts = []
    for a in range(n):
        g = _grid_param(tr, a, node)
        elts.append(Val(f"({g.code} * {block[a]}LL)", kt.i64))
    return elts[0] if n == 1 else Val(None, TupleT([kt.i64] * n), elts=elts)


# ---- threadIdx, blockIdx, blockDim, gridDim -------------------------------------------------

class _Special:
    """``cuda.threadIdx.x`` and friends: lowered where a kernel reads them."""

    __slots__ = ("kind", "axis")

    def __init__(self, kind, axis):
        self.kind, self.axis = kind, axis

    def __repr__(self):
        return f"cuda.{self.kind}.{'xyz'[self.axis]}"

    def _kernel_lower_value(self, tr, node):
        ndim, block = _context(tr, node, repr(self))
        a, b = self.axis, block[self.axis]
        if self.kind == "blockDim":
            return Val(f"{b}LL", kt.i64, const=b, simple=True)
        if self.kind == "gridDim":
            return _grid_param(tr, a, node)
        if _block_mode():
            _not_on_lanes(tr, "thread indices in a kernel with barriers")
            if self.kind == "threadIdx":
                return _thread_index(tr, a, node)
            return _block_index(tr, a, node)
        if a >= ndim:
            return Val("0LL", kt.i64, const=0, simple=True)
        if self.kind == "threadIdx":
            return Val(f"(ph_t{a} % {b}LL)" if b > 1 else "0LL", kt.i64)
        return Val(f"(ph_t{a} / {b}LL)" if b > 1 else f"ph_t{a}", kt.i64)


class _Dim3:
    __slots__ = ("x", "y", "z", "_kind")

    def __init__(self, kind):
        self._kind = kind
        self.x, self.y, self.z = (_Special(kind, a) for a in range(3))

    def __repr__(self):
        return f"cuda.{self._kind}"


threadIdx = _Dim3("threadIdx")
blockIdx = _Dim3("blockIdx")
blockDim = _Dim3("blockDim")
gridDim = _Dim3("gridDim")


# ---- atomics ----------------------------------------------------------------------------------

def _atomic_add(array, index, value):
    old = array[index]
    array[index] = old + value
    return old


def _atomic_max(array, index, value):
    old = array[index]
    array[index] = max(old, value)
    return old


def _atomic_min(array, index, value):
    old = array[index]
    array[index] = min(old, value)
    return old


class _Atomic:
    add = staticmethod(_atomic_add)
    max = staticmethod(_atomic_max)
    min = staticmethod(_atomic_min)


atomic = _Atomic()


@intrinsic(_atomic_add, name="cuda.atomic.add")
def lower_cuda_atomic_add(tr, node, label):
    # pyhost.atomic_add's entry, through the translator (the lanes pass checks its uses)
    return tr.call_intrinsic(ki.lookup(ki.atomic_add), node, label)


_ATOMIC_MINMAX_PRELUDE = r"""#if PH_CUDA
template <typename T> PH_FN T ph_atomic_mm_p(T* p, T v, bool is_max) {
  return is_max ? atomicMax(p, v) : atomicMin(p, v);
}
PH_FN ph_f32 ph_atomic_mm_p(ph_f32* p, ph_f32 v, bool is_max) {
  unsigned int* q = (unsigned int*)p; unsigned int old = *q, assumed;
  do { assumed = old; ph_f32 cur = __uint_as_float(assumed);
       if (is_max ? !(v > cur) : !(v < cur)) break;
       old = atomicCAS(q, assumed, __float_as_uint(v)); } while (old != assumed);
  return __uint_as_float(old);
}
PH_FN ph_f64 ph_atomic_mm_p(ph_f64* p, ph_f64 v, bool is_max) {
  unsigned long long* q = (unsigned long long*)p; unsigned long long old = *q, assumed;
  do { assumed = old; ph_f64 cur = __longlong_as_double(assumed);
       if (is_max ? !(v > cur) : !(v < cur)) break;
       old = atomicCAS(q, assumed, __double_as_longlong(v)); } while (old != assumed);
  return __longlong_as_double(old);
}
PH_FN ph_i64 ph_atomic_mm_p(ph_i64* p, ph_i64 v, bool is_max) {
  return (ph_i64)(is_max ? atomicMax((long long*)p, (long long)v)
                         : atomicMin((long long*)p, (long long)v));
}
#else
template <typename T> PH_FN T ph_atomic_mm_p(T* p, T v, bool is_max) {
  T old;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  while (is_max ? (v > old) : (v < old)) {
    if (__atomic_compare_exchange(p, &old, &v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) break;
  }
  return old;
}
#endif
template <typename T, int N, typename V, typename... I>
PH_FN T ph_atomic_mm(const ph_array<T, N>& a, int site, int* err, bool is_max, V value,
                     I... idx) {
  ph_i64 o = ph_off(a, site, err, (ph_i64)idx...);
  return o < 0 ? (T)0 : ph_atomic_mm_p(a.data + o, (T)value, is_max);
}"""


def _lower_minmax(is_max):
    fname = "cuda.atomic.max" if is_max else "cuda.atomic.min"

    def lower(tr, node, label):
        _not_on_lanes(tr, f"{fname}")
        if len(node.args) != 3:
            raise tr.err(f"{fname}(array, index, value) takes 3 arguments", node)
        arr = tr.expr(node.args[0])
        if not isinstance(arr.type, kt.ArrayType):
            raise tr.err(f"{fname}: first argument must be an array, got "
                         f"{_tname(arr.type)}", node.args[0])
        dt = arr.type.dtype
        if dt not in (kt.f32, kt.f64, kt.i32, kt.u32, kt.i64):
            raise tr.err(f"{fname} on {dt.name} arrays is not supported", node, fname)
        inode = node.args[1]
        index = tr.expr(inode)
        idx = index.elts if isinstance(index.type, TupleT) else [index]
        if len(idx) != arr.type.ndim:
            raise tr.err(f"{fname}: the array has {arr.type.ndim} dimension(s), got "
                         f"{len(idx)} index(es)", inode)
        value = tr.expr(node.args[2])
        idx = [tr.force_tmp(i) for i in idx]
        value = tr.force_tmp(value)
        tr.mark_written(arr)
        tr.impure = True
        sid = tr.site(node, ki.ERR_INDEX,
                      f"index out of range for '{tr.label(node.args[0])}' in {fname}")
        args = ", ".join(cast(i, kt.i64) for i in idx)
        return Val(f"ph_atomic_mm({arr.code}, {sid}, ph_err, {'true' if is_max else 'false'}, "
                   f"{cast(value, dt)}, {args})", dt, pure=False)
    return lower


register(_atomic_max, _lower_minmax(True), _ATOMIC_MINMAX_PRELUDE, name="cuda.atomic.max")
register(_atomic_min, _lower_minmax(False), _ATOMIC_MINMAX_PRELUDE, name="cuda.atomic.min")


# ---- cuda.local.array, cuda.shared.array, cuda.syncthreads, cuda.const ------------------------

def _const_array_like(ary):
    return ary


class _Local:
    array = staticmethod(_local_array)


class _Shared:
    array = staticmethod(_shared_array)


class _Const:
    array_like = staticmethod(_const_array_like)


local = _Local()
shared = _Shared()
const = _Const()


def _dtype_of(tr, node):
    import numpy as np
    from ._dtypes import _DTYPES, _SIG_NAMES
    try:
        obj = tr.resolve_object(node)
    except Exception:  # noqa: BLE001
        obj = None
    t = None
    if isinstance(obj, kt.ScalarType):
        t = obj
    elif obj is not None:
        try:
            t = _DTYPES.get(np.dtype(obj))
        except TypeError:
            t = _SIG_NAMES.get(getattr(obj, "name", None))
        if t is None:
            t = _SIG_NAMES.get(getattr(obj, "name", None) or str(obj))
    if t is None:
        raise tr.err(f"unsupported dtype '{ast.unparse(node)}' (float32, float64, int32, "
                     f"int64, uint32, uint8)", node, "array dtype")
    return t


def _shape_of(tr, node):
    def const(n):
        if isinstance(n, ast.Constant) and type(n.value) is int and n.value > 0:
            return n.value
        try:
            v = tr.resolve_object(n)
        except Exception:  # noqa: BLE001
            v = None
        if type(v) is int and v > 0:
            return v
        if type(v).__module__ == "numpy" and getattr(v, "dtype", None) is not None and \
                v.dtype.kind in "iu" and v.ndim == 0 and v > 0:   # np.int64(16)
            return int(v)
        raise tr.err("the shape of a local array must be a positive constant (a literal or a "
                     "global int)", n, "array shape")
    dims = [const(e) for e in node.elts] if isinstance(node, ast.Tuple) else [const(node)]
    if len(dims) > 3:
        raise tr.err("local arrays have 1 to 3 dimensions", node, "array shape")
    return dims


@intrinsic(_local_array, name="cuda.local.array")
def lower_local_array(tr, node, label):
    args = list(node.args)
    kw = {k.arg: k.value for k in node.keywords}
    if len(args) < 2:
        args += [kw.get("shape"), kw.get("dtype")][len(args):]
    if len(args) != 2 or args[0] is None or args[1] is None:
        raise tr.err("cuda.local.array(shape, dtype) takes 2 arguments", node)
    _not_on_lanes(tr, "cuda.local.array")
    dims = _shape_of(tr, args[0])
    t = _dtype_of(tr, args[1])
    size = functools.reduce(lambda a, b: a * b, dims, 1)
    tr.tmp_count += 1
    buf = f"ph_loc{tr.tmp_count}"
    tr.emit(f"{t.ctype} {buf}[{size}] = {{}};")
    shape = ", ".join(f"{d}LL" for d in dims)
    return Val(f"ph_array<{t.ctype}, {len(dims)}>{{{buf}, {{{shape}}}}}", t[(slice(None),) *
               len(dims)], pure=False)


@intrinsic(_shared_array, name="cuda.shared.array")
def lower_shared_array(tr, node, label):
    if getattr(_ctx, "mode", None) == "infer":
        return lower_local_array(tr, node, label)
    raise tr.src.reject("cuda.shared.array", node,
                        "shared memory with cuda.syncthreads() does not run on pyhost's CPU "
                        "device; index the global arrays instead")


@intrinsic(syncthreads, name="cuda.syncthreads")
def lower_syncthreads(tr, node, label):
    if getattr(_ctx, "mode", None) == "infer":
        return Val("((void)0)", None)
    raise tr.src.reject("cuda.syncthreads()", node,
                        "barriers between the threads of a block do not run on pyhost's CPU "
                        "device")


def threads_agree(same):
    """Inserted by ``_blocks.py`` before an if/while that holds a barrier and whose test is not
    provably the same for every thread: fails the launch where a thread's test differs from
    thread 0's."""


@intrinsic(threads_agree, name="cuda.syncthreads (branch check)")
def lower_threads_agree(tr, node, label):
    (same,) = tr.call_args(node, 1, "threads_agree(same)")
    group = "launch" if _grid_mode() else "block"
    sid = tr.site(node, ki.ERR_VALUE,
                  f"the threads of a {group} disagree on the test of this branch or loop, "
                  f"which holds a barrier: some would wait at a barrier the others never "
                  f"reach (make the test the same for every thread of the {group}, or move the "
                  f"barrier out)")
    tr.emit(f"if (!({same.code})) ph_fail(ph_err, {sid});")
    tr.impure = True
    return Val("((void)0)", None)


def _lower_grid_sync(tr, node, label):
    if getattr(_ctx, "mode", None) == "infer":
        return Val("((void)0)", None)
    raise tr.src.reject("grid.sync()", node, "a grid barrier must be at the top of the kernel "
                        "or in a for/while/if that every thread of the launch runs alike")


register(grid_sync, _lower_grid_sync, name="cuda.cg.this_grid().sync")


@intrinsic(_const_array_like, name="cuda.const.array_like")
def lower_const_array_like(tr, node, label):
    (v,) = tr.call_args(node, 1, "cuda.const.array_like(a)", allow_arrays=True)
    return v


def normalize(tree):
    """``cuda.local.array(shape=..., dtype=...)``: the keywords made positional (the kernel
    subset has no keyword arguments)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.keywords and \
                all(k.arg in ("shape", "dtype") for k in node.keywords):
            kw = {k.arg: k.value for k in node.keywords}
            args = list(node.args)
            for name in ("shape", "dtype")[len(args):]:
                if name in kw:
                    args.append(kw.pop(name))
            if not kw:
                node.args, node.keywords = args, []
    return tree


# ---- numpy scalar types as casts: np.float32(x), np.int32(x) ... ------------------------------

def _register_numpy_casts():
    import numpy as np
    for np_t, t in ((np.float32, kt.f32), (np.float64, kt.f64), (np.int32, kt.i32),
                    (np.int64, kt.i64), (np.uint32, kt.u32), (np.uint8, kt.u8),
                    (np.bool_, kt.boolean)):
        if ki.lookup(np_t) is None:
            register(np_t, ki._cast_to(t, None), name=f"numpy.{np_t.__name__}")


_register_numpy_casts()
