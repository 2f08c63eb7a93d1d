"""``@pyhost.kernel`` / ``@pyhost.func``: the decorated objects and their launches."""
import functools
import operator
import os

from . import builtins as kb
from . import device as kdev
from . import lower_expressions as _lower_expressions
from . import types as kt
from .errors import KernelError, KernelLaunchError, KernelTypeError
from .translator import (ERROR_KINDS, FunctionSource, _Unresolved, check_syntax,
                         translate_kernel)

__all__ = ["kernel", "func", "Kernel", "Func", "DeviceArray", "device_array"]


def lanes_wanted():
    """PYHOST_KERNEL_LANES: 0 builds the CPU fallback with the checked scalar loop only; 1 (the
    default) adds the vector loops (direct.py, lanes.py) where the kernel allows. Read when a
    kernel is compiled for the CPU."""
    value = os.environ.get("PYHOST_KERNEL_LANES", "1").strip().lower()
    if value in ("0", "off", "no", "false"):
        return False
    if value in ("", "1", "on", "yes", "true"):
        return True
    raise KernelLaunchError(f"PYHOST_KERNEL_LANES={value!r}: expected 0 or 1")


def _annotation_of(pyfunc, src, index, required):
    """The kernel type of parameter ``index``, from its annotation."""
    arg = src.tree.args.args[index]
    ann = getattr(pyfunc, "__annotations__", {}).get(arg.arg)
    if ann is None:
        if not required:
            return None
        raise src.error(KernelTypeError,
                        f"parameter '{arg.arg}' of @pyhost.{src.what} '{src.name}' needs a type "
                        f"annotation, e.g. {arg.arg}: pyhost.f32 or {arg.arg}: pyhost.f32[:]",
                        arg, "missing annotation")
    if isinstance(ann, str):
        try:
            ann = eval(ann, pyfunc.__globals__)  # noqa: S307 - the user's own annotation
        except Exception as exc:  # noqa: BLE001
            raise src.error(KernelTypeError, f"cannot evaluate the annotation of '{arg.arg}': "
                            f"{exc}", arg, "type annotation") from None
    t = kt.scalar_from_python_type(ann)
    if t is None:
        raise src.error(KernelTypeError,
                        f"unsupported type annotation {ann!r} for '{arg.arg}' (use pyhost.f32, "
                        f"f64, i32, i64, u32, u8, boolean or an array such as f32[:])", arg,
                        "type annotation")
    return t


class Func:
    """A ``@pyhost.func`` helper: callable from kernels (translated) and from Python."""

    _kernel_role = "func"  # how lowering.py tells a helper from other callables

    def __init__(self, pyfunc):
        self._pyfunc = pyfunc
        functools.update_wrapper(self, pyfunc)
        self._src = FunctionSource(pyfunc, "func")
        check_syntax(self._src)
        self._types = {}
        for k, arg in enumerate(self._src.tree.args.args):
            t = _annotation_of(pyfunc, self._src, k, required=False)
            if t is not None:
                self._types[arg.arg] = t

    def _source(self):
        return self._src

    def _annotation(self, name):
        return self._types.get(name)

    def __call__(self, *args):
        return self._pyfunc(*args)

    def __repr__(self):
        return f"<pyhost.func {self.__name__}>"


# plain functions and Numba @jit helpers called from kernels become Funcs (lower_expressions.py)
_lower_expressions.HELPER_CLASS = Func


class _RefArray:
    """An array argument as the python reference device hands it to the kernel: indexing like
    the generated code (negative indices, IndexError), stores converted to the element type."""

    __slots__ = ("_mv", "_cast", "shape", "ndim")

    def __init__(self, mv, dtype):
        self._mv = mv
        self._cast = dtype
        self.shape = tuple(mv.shape)
        self.ndim = mv.ndim

    def __getitem__(self, index):
        return self._mv[index]

    def __setitem__(self, index, value):
        self._mv[index] = self._cast(value)

    def __len__(self):
        return self.shape[0]


def _format_ok(fmt, itemsize, dtype):
    if fmt[:1] in "@=<":
        fmt = fmt[1:]
    return len(fmt) == 1 and fmt in dtype.formats and itemsize == dtype.itemsize


def check_array(kname, name, obj, atype, writable):
    """The memoryview of ``obj`` if it fits ``atype`` (same messages as the native engine)."""
    try:
        mv = memoryview(obj)
    except TypeError:
        raise KernelLaunchError(
            f"kernel '{kname}': argument '{name}' must be a buffer of {atype.name} "
            f"(array.array, memoryview, bytearray or numpy array), got "
            f"{type(obj).__name__}") from None
    dtype = atype.dtype
    if not _format_ok(mv.format, mv.itemsize, dtype):
        raise KernelLaunchError(
            f"kernel '{kname}': argument '{name}' must hold {dtype.name} elements (buffer "
            f"format '{dtype.formats[0]}'), got format '{mv.format}'")
    if mv.ndim != atype.ndim:
        raise KernelLaunchError(
            f"kernel '{kname}': argument '{name}' must have {atype.ndim} dimension(s), got "
            f"{mv.ndim}")
    if not mv.c_contiguous:
        raise KernelLaunchError(
            f"kernel '{kname}': argument '{name}' must be C-contiguous")
    if writable and mv.readonly:
        raise KernelLaunchError(
            f"kernel '{kname}': argument '{name}' is read-only but the kernel writes to it")
    return mv


def check_scalar(kname, name, obj, t):
    if t.is_float:
        if isinstance(obj, (str, bytes)) or not hasattr(obj, "__float__") and \
                not hasattr(obj, "__index__"):
            raise KernelLaunchError(f"kernel '{kname}': argument '{name}' must be a number "
                                    f"({t.name}), got {type(obj).__name__}")
        return t(float(obj))
    try:
        v = operator.index(obj)
    except TypeError:
        raise KernelLaunchError(f"kernel '{kname}': argument '{name}' must be an integer "
                                f"({t.name}), got {type(obj).__name__}") from None
    if t.is_bool:
        return bool(v)
    lo, hi = (0, (1 << t.bits) - 1) if t.kind == "u" else (-(1 << (t.bits - 1)),
                                                           (1 << (t.bits - 1)) - 1)
    if not lo <= v <= hi:
        raise KernelLaunchError(f"kernel '{kname}': argument '{name}' = {v} does not fit in "
                                f"{t.name}")
    return v


def _dims(dims):
    if not isinstance(dims, tuple):
        dims = (dims,)
    if not 1 <= len(dims) <= 3:
        raise TypeError("launch with kernel[n], kernel[w, h] or kernel[w, h, d]")
    out = []
    for d in dims:
        try:
            d = operator.index(d)
        except TypeError:
            raise TypeError(f"launch dimensions must be integers, got "
                            f"{type(d).__name__}") from None
        if d < 0:
            raise ValueError(f"launch dimensions must be >= 0, got {d}")
        out.append(d)
    return tuple(out)


class _Launch:
    __slots__ = ("_kernel", "_dims")

    def __init__(self, kernel, dims):
        self._kernel = kernel
        self._dims = dims

    def __call__(self, *args):
        self._kernel._launch(self._dims, args)


class Kernel:
    """A ``@pyhost.kernel``: launch with ``k[n](...)``, ``k[w, h](...)`` or ``k[w, h, d](...)``."""

    _kernel_role = "kernel"

    def __init__(self, pyfunc):
        self._pyfunc = pyfunc
        functools.update_wrapper(self, pyfunc)
        self._src = FunctionSource(pyfunc, "kernel")
        check_syntax(self._src)
        self._param_types = [_annotation_of(pyfunc, self._src, k, required=True)
                             for k in range(len(self._src.tree.args.args))]
        self._translation = None
        self._compiled = {}
        self.device = None
        try:
            self._translate()
        except _Unresolved:
            pass  # a global defined later in the file: translated at the first launch

    def _translate(self):
        tr = self._translation
        if tr is None:
            tr = self._translation = translate_kernel(self._src, self._param_types)
        return tr

    def _translation_or_raise(self):
        try:
            return self._translate()
        except _Unresolved as exc:
            raise exc.args[0] from None

    @property
    def source(self):
        """The generated CUDA C++ (without the shared prelude), Python lines as comments."""
        return self._translation_or_raise().source

    @property
    def full_source(self):
        """The whole translation unit handed to NVRTC / the C++ compiler."""
        return self._translation_or_raise().full_source

    @property
    def dims(self):
        return self._translation_or_raise().dims

    def __getitem__(self, dims):
        return _Launch(self, _dims(dims))

    def __call__(self, *args):
        raise TypeError(f"launch a kernel with {self.__name__}[n](...) (or [w, h] for 2-D)")

    def __repr__(self):
        return f"<pyhost.kernel {self.__name__}>"

    # -- launching -----------------------------------------------------------------------------
    def _launch(self, dims, args):
        tr = self._translation_or_raise()
        if tr.dims is not None and tr.dims != len(dims):
            raise KernelLaunchError(
                f"kernel '{tr.name}' uses a {tr.dims}-D index (pyhost.tid()) but was launched "
                f"with {len(dims)} dimension(s)")
        if len(args) != len(tr.params):
            raise TypeError(f"kernel '{tr.name}' takes {len(tr.params)} argument(s) "
                            f"({', '.join(n for n, _ in tr.params)}), got {len(args)}")
        dev = kdev.get_device()
        if dev == "python":
            self._run_python(tr, dims, args)
        else:
            self._run_native(tr, dev, dims, args)
        self.device = dev

    def _native_kernel(self, tr, dev):
        k = self._compiled.get(dev)
        if k is None:
            mod = kdev.native()
            params = tuple((n, t.dtype.name if isinstance(t, kt.ArrayType) else t.name,
                            t.ndim if isinstance(t, kt.ArrayType) else 0, w)
                           for (n, t), w in zip(tr.params, tr.writable))
            if dev == "cuda":
                compile_fn, source = mod.compile_cuda, tr.full_source
            else:
                # _ph_lanes: a kernel whose own shape suits the scalar loop better (pyhost.cuda's
                # reduce: one serial loop per index over a contiguous chunk)
                compile_fn, source = mod.compile_cpu, tr.cpu_source(
                    lanes_wanted() and getattr(self, "_ph_lanes", True))
            try:
                k = compile_fn(tr.name, tr.cname, source, params)
            except RuntimeError as exc:
                raise KernelError(f"kernel '{tr.name}': {exc}", kernel=tr.name) from None
            self._compiled[dev] = k
        return k

    def _run_native(self, tr, dev, dims, args):
        k = self._native_kernel(tr, dev)
        launch_args = args
        if any(isinstance(a, DeviceArray) for a in args):
            launch_args = tuple(a._for_launch(dev) if isinstance(a, DeviceArray) else a
                                for a in args)
        d3 = dims + (1,) * (3 - len(dims))
        try:
            site = k.launch(d3, launch_args)
        except ValueError as exc:
            raise KernelLaunchError(str(exc)) from None
        except RuntimeError as exc:  # the device failed (CUDA error): say which kernel
            raise KernelLaunchError(f"kernel '{tr.name}': {exc}", kernel=tr.name) from None
        if launch_args is not args:
            for a, w in zip(args, tr.writable):
                if w and isinstance(a, DeviceArray):
                    a._written(dev)
        if site:
            raise _site_error(tr, site)

    def _run_python(self, tr, dims, args):
        conv = []
        for a, (name, t), w in zip(args, tr.params, tr.writable):
            if isinstance(t, kt.ArrayType):
                if isinstance(a, DeviceArray):
                    a = a._for_launch("python")
                conv.append(_RefArray(check_array(tr.name, name, a, t, w), t.dtype))
            else:
                conv.append(check_scalar(tr.name, name, a, t))
        fn = self._pyfunc
        n = len(dims)
        state = kb._state
        try:
            if n == 1:
                for i in range(dims[0]):
                    state.tid = i
                    fn(*conv)
            elif n == 2:
                w, h = dims
                for y in range(h):
                    for x in range(w):
                        state.tid = (x, y)
                        fn(*conv)
            else:
                w, h, d = dims
                for z in range(d):
                    for y in range(h):
                        for x in range(w):
                            state.tid = (x, y, z)
                            fn(*conv)
        finally:
            state.tid = None


def _site_error(tr, site):
    kind, filename, lineno, line, detail, fname = tr.sites[site]
    exc_type = {"IndexError": IndexError, "ZeroDivisionError": ZeroDivisionError,
                "ValueError": ValueError}[ERROR_KINDS[kind]]
    where = f"{filename}:{lineno}"
    fn = f"kernel '{tr.name}'" if fname == tr.name else f"func '{fname}' (kernel '{tr.name}')"
    return exc_type(f"{detail} in {fn} at {where}\n    {line.strip()}")


# ---------------------------------------------------------------------------------------------
# Device arrays

_FORMAT_TYPES = {"f": kt.f32, "d": kt.f64, "i": kt.i32, "l": kt.i64, "q": kt.i64, "I": kt.u32,
                 "B": kt.u8, "?": kt.boolean}


class DeviceArray:
    """An array that stays on the device across launches (on the CPU devices: host memory).

    Pass it to kernels like any buffer; read it back with ``to_host()`` (a memoryview) or
    ``tolist()``.
    """

    def __init__(self, dtype, shape):
        self.dtype = dtype
        self.shape = shape
        n = 1
        for s in shape:
            n *= s
        self.size = n
        self.nbytes = n * dtype.itemsize
        self._host = bytearray(self.nbytes)
        self._dev = None          # native DeviceBuffer when a CUDA launch used it
        self._fresh = "host"      # which copy is current: "host" or "device"

    @property
    def ndim(self):
        return len(self.shape)

    def _view(self):
        mv = memoryview(self._host).cast(self.dtype.formats[0])
        return mv.cast("B").cast(self.dtype.formats[0], self.shape) if self.ndim > 1 else mv

    def _sync_host(self):
        if self._fresh == "device":
            self._dev.download(self._host)
            self._fresh = "host"

    def _for_launch(self, dev):
        if dev == "cuda":
            if self._dev is None:
                self._dev = kdev.native().DeviceBuffer(self.nbytes, self.dtype.name, self.shape)
            if self._fresh == "host":
                self._dev.upload(self._host)
                self._fresh = "device"
            return self._dev
        self._sync_host()
        return self._view()

    def _written(self, dev):
        self._fresh = "device" if dev == "cuda" else "host"

    def to_host(self):
        """A memoryview of a host copy (shape and format of the array)."""
        self._sync_host()
        copy = bytearray(self._host)
        mv = memoryview(copy).cast(self.dtype.formats[0])
        return mv.cast("B").cast(self.dtype.formats[0], self.shape) if self.ndim > 1 else mv

    def copy_from(self, data):
        mv = memoryview(data).cast("B")
        if mv.nbytes != self.nbytes:
            raise ValueError(f"copy_from: {mv.nbytes} bytes given, the array has "
                             f"{self.nbytes}")
        self._host[:] = mv
        self._fresh = "host"

    def tolist(self):
        return self.to_host().tolist()

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return f"<pyhost.device_array {self.dtype.name}{list(self.shape)}>"


def device_array(data_or_shape, dtype=None):
    """An array kept on the device across launches.

    ``device_array(buffer)`` copies a buffer (element type from its format);
    ``device_array(n or (h, w), dtype=pyhost.f32)`` makes zeros.
    """
    if isinstance(data_or_shape, (int, tuple)):
        shape = data_or_shape if isinstance(data_or_shape, tuple) else (data_or_shape,)
        shape = tuple(operator.index(s) for s in shape)
        t = dtype or kt.f32
        if not isinstance(t, kt.ScalarType):
            raise TypeError(f"dtype must be a pyhost scalar type, got {t!r}")
        return DeviceArray(t, shape)
    mv = memoryview(data_or_shape)
    fmt = mv.format.lstrip("@=<")
    t = _FORMAT_TYPES.get(fmt)
    if t is None or mv.itemsize != t.itemsize:
        raise TypeError(f"device_array: unsupported buffer format '{mv.format}'")
    if dtype is not None and dtype is not t:
        raise TypeError(f"device_array: buffer holds {t.name}, dtype says {dtype.name}")
    if not mv.c_contiguous:
        raise ValueError("device_array: the buffer must be C-contiguous")
    arr = DeviceArray(t, tuple(mv.shape))
    arr._host[:] = mv.cast("B") if mv.ndim == 1 else mv.tobytes()
    return arr


def kernel(fn=None):
    """Decorator: translate a Python function into a data-parallel kernel."""
    if fn is None:
        return kernel
    return Kernel(fn)


def func(fn=None):
    """Decorator: a helper that kernels (and other funcs) can call."""
    if fn is None:
        return func
    return Func(fn)
