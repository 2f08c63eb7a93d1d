"""The translation of a ``@cuda.jit`` function for one signature and block shape: its source
with the grid as hidden parameters, rewritten for block mode (``_blocks.py``) when it has barriers
and for one group (``_grid.py``) when it syncs its grid, lowered with the CUDA builtins
(``_builtins.py``)."""
import ast
import functools

from .._kernels import types as kt
from . import _blocks, _grid
from ._builtins import GRID_PARAMS, _ctx, normalize

_NOINLINE = """#if PH_CUDA
#define PH_CUDA_BODY PH_FN
#else
#define PH_CUDA_BODY __attribute__((noinline)) static
#endif
"""


def _noinline_scalar_body(tr):
    """A kernel that runs on the CPU one index at a time (no direct loop, no lanes): its body
    is a function of its own, not inlined into the loop over the indices, so the registers of
    that loop do not crowd the body's own loops (GCC then keeps loop counters in vector
    registers: 2x slower on Monte Carlo pi)."""
    head = f"PH_FN void ph_body_{tr.cname}("
    if f'const char* ph_loop_{tr.cname}(void) {{ return "scalar"; }}' in tr.source and \
            head in tr.source:
        tr.source = _NOINLINE + tr.source.replace(head, f"PH_CUDA_BODY void ph_body_{tr.cname}(",
                                                  1)


def compile_kernel(pyfunc, types, ndim, block, grid=None, lanes=True, debug=False):
    """A ``pyhost._kernels.core.Kernel`` for ``pyfunc`` with parameter ``types`` in a launch of
    ``ndim`` dimensions and blocks of shape ``block`` (3 ints); its parameters are followed by
    the grid (three int64). ``grid`` (3 ints): a cooperative kernel (``cuda.cg``) for a launch
    of that grid, run as one group (``_grid.py``). ``lanes=False``: the CPU build runs one
    index at a time (no direct loop or lanes). ``debug``: float division by zero raises
    ZeroDivisionError (else inf/nan, Numba's CUDA error model)."""
    from .._kernels import core
    from .._kernels.source import FunctionSource
    from .._kernels.translator import check_syntax

    kern = core.Kernel.__new__(core.Kernel)
    kern._pyfunc = pyfunc
    functools.update_wrapper(kern, pyfunc)
    src = FunctionSource(pyfunc, "kernel")
    # Numba's CUDA target: float division by zero gives inf/nan, unless debug=True (Python's
    # ZeroDivisionError); the check would also keep the CPU build from vectorising
    src.error_model = "python" if debug else "numpy"
    normalize(src.tree)
    check_syntax(src)
    fargs = src.tree.args
    for name in GRID_PARAMS:
        arg = ast.arg(arg=name)
        ast.copy_location(arg, src.tree)
        fargs.args.append(arg)
    param_types = list(types) + [kt.i64] * 3
    cooperative = _grid.rewrite_groups(src)
    if cooperative and grid is None:
        raise AssertionError("a cooperative kernel is compiled for its grid")
    blocks = cooperative or _blocks.uses_barriers(src)
    _ctx.ndim, _ctx.block = ndim, block
    try:
        if blocks:
            # first typing pass on the kernel as written: the types of its variables
            from .._kernels.lowering import FnTranslator, Unit
            _ctx.mode = "infer"
            typing = FnTranslator(Unit(), src, param_types, kernel=True, cname="ph_typing")
            typing.run()
            if cooperative:
                extent = tuple(g * b for g, b in zip(grid, block))
                _blocks.rewrite(src, dict(typing.var_types), extent, grid=True)
                _ctx.grid = grid
            else:
                _blocks.rewrite(src, dict(typing.var_types), block)
            _ctx.mode = "block"
        kern._src = src
        kern._param_types = param_types
        kern._translation = None
        kern._compiled = {}
        kern.device = None
        kern._ph_cuda_blocks = "grid" if cooperative else blocks
        kern._ph_lanes = lanes   # False: the CPU build keeps the scalar loop (no lanes)
        _noinline_scalar_body(kern._translation_or_raise())
    finally:
        _ctx.ndim = _ctx.block = _ctx.mode = _ctx.grid = None
    return kern
