"""``@cuda.jit``: the dispatcher of a kernel (``k[blocks, threads](args)``), which infers a
signature from each launch's arguments and compiles the kernel once per signature and block
shape (``_compile.py``), and device functions. Public as ``pyhost.cuda.jit``: its classes and
``jit`` keep ``__module__`` ``pyhost.cuda``, which re-exports them; here so that ``_reduce.py``
and ``_vectorize.py`` make kernels without importing the package."""
import functools
import operator
import threading

import numpy as np

from .._kernels import device as _kdev
from .._kernels import types as kt
from .._kernels.errors import KernelLaunchError
from . import _builtins, _compile, _grid, _types
from ._arrays import DeviceNDArray
from ._dtypes import _DTYPES, _SIG_NAMES

# Numba's xoroshiro states (record dtype s0, s1 uint64): here an int64 array of shape (n, 2).
_STATE_TYPE = kt.i64[:, :]

_lock = threading.Lock()


# ---- signatures -----------------------------------------------------------------------------

def _type_of(name, value):
    """(kernel type, value as the engine takes it) of one launch argument."""
    if isinstance(value, DeviceNDArray):
        if value._is_states:
            return _STATE_TYPE, value._a
        value = value._a
    if isinstance(value, np.ndarray):
        t = _DTYPES.get(value.dtype)
        if t is None:
            raise KernelLaunchError(f"argument '{name}': arrays of {value.dtype} are not "
                                    f"supported (float32/64, int32/64, uint32, uint8, bool)")
        if not 1 <= value.ndim <= 3:
            raise KernelLaunchError(f"argument '{name}': arrays of 1 to 3 dimensions, got "
                                    f"{value.ndim}")
        if not value.flags.c_contiguous:
            raise KernelLaunchError(f"argument '{name}': the array must be C-contiguous "
                                    f"(np.ascontiguousarray)")
        return t[(slice(None),) * value.ndim], value
    if isinstance(value, (bool, np.bool_)):
        return kt.boolean, bool(value)
    if isinstance(value, (int, np.integer)):
        if isinstance(value, np.integer) and np.dtype(type(value)) in _DTYPES:
            return _DTYPES[np.dtype(type(value))], int(value)
        return kt.i64, int(value)
    if isinstance(value, (float, np.floating)):
        if isinstance(value, np.float32):
            return kt.f32, float(value)
        return kt.f64, float(value)
    raise KernelLaunchError(f"argument '{name}': a {type(value).__name__} cannot be passed to a "
                            f"kernel (numpy arrays, device arrays, ints, floats, bools)")


def _parse_type(text):
    text = text.strip()
    ndim = 0
    if text.endswith("]"):
        base, _, dims = text.partition("[")
        ndim = dims.count(",") + 1
        text = base.strip()
    t = _SIG_NAMES.get(text)
    if t is None:
        raise TypeError(f"unsupported type {text!r} in the signature")
    return t[(slice(None),) * ndim] if ndim else t


def _parse_signature(sig):
    """``"void(float32[:], int64)"``, ``void(float32[:], int64)`` or a tuple of types
    ``(float32[:], int64)`` -> (types)."""
    if isinstance(sig, _types.Signature):
        sig = sig.args
    if isinstance(sig, (tuple, list)):
        out = [_types.to_kernel_type(t) for t in sig]
        if any(t is None for t in out):
            raise TypeError(f"a signature tuple holds types such as int32[:, ::1], got {sig!r}")
        return tuple(out)
    if not isinstance(sig, str):
        raise TypeError("signatures are strings (\"void(float32[:], float32[:])\"), "
                        "void(float32[:], float32[:]) or tuples of types")
    sig = sig.strip()
    ret, _, rest = sig.partition("(")
    if ret.strip() not in ("void", "none", "") or not rest.endswith(")"):
        raise TypeError(f"kernel signatures look like \"void(float32[:], int64)\", got {sig!r}")
    return tuple(_parse_type(p) for p in split_arguments(rest[:-1].strip()))


def split_arguments(text):
    """The comma-separated items of a signature's argument list, commas inside ``[...]`` (array
    layouts: ``float32[:, ::1]``) kept; empty text gives none."""
    out, depth, cur = [], 0, ""
    for c in text:
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += c == "["
        depth -= c == "]"
        cur += c
    return out + [cur] if cur.strip() else out


def _is_one_signature(obj):
    """A signature (not a list of them): a string, ``void(...)`` or a tuple of types."""
    return isinstance(obj, (str, _types.Signature)) or (
        isinstance(obj, tuple) and all(_types.to_kernel_type(t) is not None for t in obj))


def _dim3(v, what):
    if isinstance(v, (tuple, list)):
        dims = tuple(v)
    else:
        dims = (v,)
    if not 1 <= len(dims) <= 3:
        raise ValueError(f"{what} has 1 to 3 dimensions, got {len(dims)}")
    try:
        dims = tuple(operator.index(d) for d in dims)
    except TypeError:
        raise TypeError(f"{what} must be ints or tuples of ints") from None
    if any(d < 1 for d in dims):
        raise ValueError(f"{what} must be positive, got {dims}")
    return dims


# ---- kernels --------------------------------------------------------------------------------

class _Configured:
    __module__ = "pyhost.cuda"
    __slots__ = ("_k", "_griddim", "_blockdim")

    def __init__(self, k, griddim, blockdim):
        self._k, self._griddim, self._blockdim = k, griddim, blockdim

    def __call__(self, *args):
        self._k._launch(self._griddim, self._blockdim, args)


class CUDADispatcher:
    """A ``@cuda.jit`` kernel: launch with ``k[blocks, threads](args)``."""

    __module__ = "pyhost.cuda"  # public there

    def __init__(self, pyfunc, sigs=None, debug=False):
        self.py_func = pyfunc
        self._debug = debug   # float division by zero raises (else inf/nan, as Numba's CUDA)
        functools.update_wrapper(self, pyfunc)
        self._sigs = [_parse_signature(s) for s in sigs] if sigs else None
        self._compiled = {}
        self._last = None
        self._cooperative = None   # whether it syncs its grid (cuda.cg), known at first launch
        self._lanes = True         # False: the CPU build runs one index at a time (_reduce.py)
        if self._sigs:
            # check the function against the subset now, as Numba compiles eagerly
            from .._kernels.source import FunctionSource
            from .._kernels.translator import check_syntax
            src = FunctionSource(pyfunc, "kernel")
            _builtins.normalize(src.tree)
            check_syntax(src)

    def __getitem__(self, config):
        if not isinstance(config, tuple) or len(config) not in (2, 3, 4):
            raise ValueError("launch a kernel with kernel[blocks, threads_per_block](...)")
        griddim = _dim3(config[0], "the grid (blocks)")
        blockdim = _dim3(config[1], "the block (threads per block)")
        return _Configured(self, griddim, blockdim)

    def forall(self, n, tpb=0, stream=0, sharedmem=0):
        """``k.forall(n)(args)``: a launch of at least ``n`` threads (128 per block)."""
        tpb = tpb or 128
        return self[max(1, (n + tpb - 1) // tpb), tpb]

    @property
    def overloads(self):
        """``k.overloads[sig]``: the kernel of one signature (``sig`` as given to ``@cuda.jit``:
        a string, ``void(...)`` or a tuple of types)."""
        return _Overloads(self)

    def __call__(self, *args):
        raise TypeError(f"launch a @cuda.jit kernel with {self.__name__}[blocks, threads](...)")

    def _kernel_for(self, types, griddim, blockdim):
        ndim = max(len(griddim), len(blockdim))
        block = blockdim + (1,) * (3 - len(blockdim))
        grid = None
        if self._cooperative is None:
            self._cooperative = _grid.uses_grid_sync(self.py_func)
        if self._cooperative:   # one group for the whole launch: compiled for its grid
            grid = griddim + (1,) * (3 - len(griddim))
            threads = functools.reduce(operator.mul, grid + block, 1)
            if threads > _grid.MAX_THREADS:
                per_block = functools.reduce(operator.mul, block, 1)
                raise KernelLaunchError(
                    f"kernel '{self.__name__}' syncs its grid (cuda.cg.this_grid().sync()) and "
                    f"is launched with {threads} threads; a cooperative launch has at most "
                    f"{max(1, _grid.MAX_THREADS // per_block)} blocks of {per_block} threads "
                    f"here (kernel.overloads[sig].max_cooperative_grid_blocks(blockdim))")
        key = (tuple(types), ndim, block, grid)
        k = self._compiled.get(key)
        if k is None:
            with _lock:
                k = self._compiled.get(key)
                if k is None:
                    k = _compile.compile_kernel(self.py_func, list(types), ndim, block, grid,
                                                lanes=self._lanes, debug=self._debug)
                    self._compiled[key] = k
        return k

    def _launch(self, griddim, blockdim, args):
        params = self.py_func.__code__.co_varnames[:self.py_func.__code__.co_argcount]
        if len(args) != len(params):
            raise TypeError(f"kernel '{self.__name__}' takes {len(params)} argument(s) "
                            f"({', '.join(params)}), got {len(args)}")
        typed = [_type_of(n, a) for n, a in zip(params, args)]
        types = [t for t, _ in typed]
        values = [v for _, v in typed]
        if self._sigs:
            for sig in self._sigs:
                if len(sig) == len(types) and all(
                        s == t or (isinstance(s, kt.ScalarType) and isinstance(t, kt.ScalarType))
                        for s, t in zip(sig, types)):
                    types = sig
                    break
            else:
                raise KernelLaunchError(
                    f"kernel '{self.__name__}': no signature matches the arguments "
                    f"({', '.join(t.name for t in types)})")
        if _kdev.get_device() == "python":
            raise KernelLaunchError(
                f"kernel '{self.__name__}': @cuda.jit kernels run on the cpu or cuda device "
                f"(PYHOST_DEVICE=python is the reference of @pyhost.kernel only)")
        ndim = max(len(griddim), len(blockdim))
        g = griddim + (1,) * (3 - len(griddim))
        b = blockdim + (1,) * (3 - len(blockdim))
        k = self._kernel_for(types, griddim, blockdim)
        if k._ph_cuda_blocks == "grid":   # one index for the launch (_grid.py)
            dims = (1,) * ndim
        elif k._ph_cuda_blocks:   # one index per block, its threads as loops (_blocks.py)
            dims = tuple(g[a] for a in range(ndim))
        else:
            dims = tuple(g[a] * b[a] for a in range(ndim))
        k._launch(dims, tuple(values) + g)
        self._last = k

    @property
    def source(self):
        """The generated C++ of the last launch."""
        return self._last.source if self._last else None

    @property
    def device(self):
        return self._last.device if self._last else None

    def __repr__(self):
        return f"<pyhost.cuda.jit {self.__name__}>"


class _Overloads:
    __module__ = "pyhost.cuda"
    __slots__ = ("_k",)

    def __init__(self, k):
        self._k = k

    def __getitem__(self, sig):
        types = _parse_signature(sig)
        if self._k._sigs is not None and types not in self._k._sigs:
            raise KeyError(sig)
        return _Overload(self._k, types)

    def __contains__(self, sig):
        return self._k._sigs is None or _parse_signature(sig) in self._k._sigs

    def keys(self):
        return list(self._k._sigs or [])


class _Overload:
    """One signature of a ``@cuda.jit`` kernel."""

    __module__ = "pyhost.cuda"

    def __init__(self, k, types):
        self._k, self.argtypes = k, types

    def max_cooperative_grid_blocks(self, blockdim):
        """How many blocks of ``blockdim`` a cooperative launch (``cuda.cg.this_grid().sync()``)
        may have: on the CPU device the whole grid runs as one group whose per-thread
        variables live in memory, up to ``_grid.MAX_THREADS`` threads."""
        b = _dim3(blockdim, "the block (threads per block)")
        return max(1, _grid.MAX_THREADS // functools.reduce(operator.mul, b, 1))

    def __repr__(self):
        return f"<pyhost.cuda kernel {self._k.__name__}{tuple(self.argtypes)}>"


class DeviceFunction:
    """``@cuda.jit(device=True)``: callable from kernels (a ``@pyhost.func``) and from Python."""

    __module__ = "pyhost.cuda"  # public there

    def __new__(cls, pyfunc):
        from .._kernels.core import Func
        return Func(pyfunc)


def jit(func_or_sig=None, device=False, inline=False, debug=False, opt=True, fastmath=False,
        cache=False, lineinfo=False, **kws):
    """``@cuda.jit``, ``@cuda.jit("void(float32[:])")``, ``@cuda.jit(device=True)``."""
    if callable(func_or_sig) and not isinstance(func_or_sig, str):
        return DeviceFunction(func_or_sig) if device else CUDADispatcher(func_or_sig,
                                                                          debug=debug)
    sigs = None
    if func_or_sig is not None:
        sigs = [func_or_sig] if _is_one_signature(func_or_sig) else list(func_or_sig)

    def wrap(fn):
        if device:
            return DeviceFunction(fn)
        return CUDADispatcher(fn, sigs, debug=debug)
    return wrap


jit.__module__ = "pyhost.cuda"  # public there
