"""Cooperative groups: ``cuda.cg.this_grid()`` and its ``sync()``, a barrier of every thread of
the launch.

On the CPU device a kernel that syncs its grid runs as one group: one index of the engine runs
all the threads of the launch as loops cut at the barriers, as a block with
``cuda.syncthreads()`` does (``_blocks.py``), the grid's extent being the "block". Its threads'
variables that live across a barrier are arrays of one element per thread of the grid, so a
cooperative launch has at most ``MAX_THREADS`` threads (``max_cooperative_grid_blocks``), as a
GPU's cooperative launch is limited to the blocks that fit on it at once.

Before translation ``g = cuda.cg.this_grid()`` is dropped and ``g.sync()`` becomes a call of
``_grid_sync``, the barrier ``_blocks.py`` cuts at.
"""
import ast

from ._source_utils import _resolve

MAX_THREADS = 16384
GRID_SYNC = "_ph_grid_sync"


class GridGroup:
    """What ``cuda.cg.this_grid()`` stands for; only meaningful inside a kernel."""

    def sync(self):
        raise RuntimeError("grid.sync() is only meaningful inside a @cuda.jit kernel")


def this_grid():
    """The group of all the threads of the launch (use it as ``g.sync()`` in a kernel)."""
    raise RuntimeError("cuda.cg.this_grid() is only meaningful inside a @cuda.jit kernel")


def grid_sync():
    """The barrier ``g.sync()`` becomes (``_blocks.py`` cuts the kernel at it)."""


class _CG:
    this_grid = staticmethod(this_grid)
    GridGroup = GridGroup


cg = _CG()


def rewrite_groups(src):
    """Rewrites ``g = cuda.cg.this_grid()`` / ``g.sync()`` in ``src.tree``; True when the kernel
    syncs its grid. Any other use of the group is rejected with its line."""

    def is_this_grid(node):
        return isinstance(node, ast.Call) and not node.args and \
            _resolve(src, node.func) is this_grid

    groups = set()
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Assign) and is_this_grid(node.value):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise src.reject("cuda.cg.this_grid() assigned to other than one name", node)
            groups.add(node.targets[0].id)
    found = False

    class Rewrite(ast.NodeTransformer):
        def visit_Assign(self, node):
            if is_this_grid(node.value):
                return ast.copy_location(ast.Pass(), node)
            return self.generic_visit(node)

        def visit_Expr(self, node):
            nonlocal found
            call = node.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                    call.func.attr == "sync" and not call.args and (
                        (isinstance(call.func.value, ast.Name) and
                         call.func.value.id in groups) or is_this_grid(call.func.value)):
                found = True
                new = ast.Call(func=ast.Name(id=GRID_SYNC, ctx=ast.Load()), args=[],
                               keywords=[])
                for n in ast.walk(new):
                    ast.copy_location(n, call)
                node.value = new
                return node
            return self.generic_visit(node)

        def visit_Name(self, node):
            if node.id in groups:
                raise src.reject(f"the cooperative group '{node.id}' used other than as "
                                 f"{node.id}.sync()", node,
                                 "pyhost.cuda supports this_grid() and its sync()")
            return node

        def visit_Call(self, node):
            if is_this_grid(node):
                raise src.reject("cuda.cg.this_grid() used other than as g = "
                                 "cuda.cg.this_grid() and g.sync()", node)
            return self.generic_visit(node)

    Rewrite().visit(src.tree)
    if found:
        src.closure[GRID_SYNC] = grid_sync
    return found


def uses_grid_sync(pyfunc):
    """Whether ``pyfunc`` (a kernel's Python function) calls ``cuda.cg.this_grid()``."""
    from .._kernels.source import FunctionSource
    src = FunctionSource(pyfunc, "kernel")
    return any(isinstance(n, ast.Call) and _resolve(src, n.func) is this_grid
               for n in ast.walk(src.tree))
