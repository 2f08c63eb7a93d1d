"""Which values of a ``@cuda.jit`` kernel are the same for every thread of a block: the test
of an ``if``/``while``/``for`` that holds a barrier must be, or some threads would wait at a
barrier the others never reach (CUDA leaves that undefined; the CPU device runs such a branch
once per block, taken or not by all its threads).

Uniform: constants and globals, the kernel's parameters, ``cuda.blockIdx/blockDim/gridDim``,
``cuda.gridsize``, array shapes, array elements at a uniform index (every thread reads the same
one), and locals assigned only uniform values where every thread runs alike (not under an
``if``/loop whose test differs between threads); arithmetic, math calls and device functions of
uniform values. Not uniform: ``cuda.threadIdx``, ``cuda.grid``, elements at other indices,
atomics and random draws.
"""
import ast

from .._kernels.source import assignment_targets
from . import _builtins as b


class Uniformity:
    def __init__(self, src, resolve, grid=False):
        """``grid``: uniform over the whole launch (a cooperative kernel): blockIdx is not."""
        self.src = src
        self.resolve = resolve
        self.thread_dependent = {b.grid, b._atomic_add, b._atomic_max, b._atomic_min}
        self.uniform_specials = {"blockDim", "gridDim"} | (set() if grid else {"blockIdx"})
        fn = src.tree
        self.locals = set(assignment_targets(fn)) | {a.arg for a in fn.args.args}
        self.varying = set()
        while True:   # grows until it settles: a name is varying once any assignment is
            before = len(self.varying)
            self._stmts(fn.body, divergent=False)
            if len(self.varying) == before:
                break

    # -- statements: which locals get varying values ----------------------------------------
    def _mark(self, target, uniform):
        if isinstance(target, ast.Name):
            if not uniform:
                self.varying.add(target.id)
        elif isinstance(target, ast.Tuple):
            for e in target.elts:
                self._mark(e, uniform)

    def _stmts(self, stmts, divergent):
        for s in stmts:
            self._stmt(s, divergent)

    def _stmt(self, s, divergent):
        if isinstance(s, ast.Assign):
            for t in s.targets:
                if isinstance(t, ast.Tuple) and isinstance(s.value, ast.Tuple) and \
                        len(t.elts) == len(s.value.elts):
                    for e, v in zip(t.elts, s.value.elts):
                        self._mark(e, not divergent and self.is_uniform(v))
                else:
                    self._mark(t, not divergent and self.is_uniform(s.value))
        elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
            self._mark(s.target, not divergent and s.value is not None and
                       self.is_uniform(s.value) and self.is_uniform(s.target))
        elif isinstance(s, ast.For):
            same = not divergent and self.is_uniform(s.iter)
            self._mark(s.target, same)
            self._stmts(s.body, not same)
        elif isinstance(s, (ast.If, ast.While)):
            same = not divergent and self.is_uniform(s.test)
            self._stmts(s.body, not same)
            self._stmts(s.orelse, not same)

    # -- expressions -------------------------------------------------------------------------
    def is_uniform(self, node):
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return node.id not in self.varying if node.id in self.locals else True
        if isinstance(node, ast.Attribute):
            root = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.locals:
                return node.attr in ("shape", "size", "ndim") and isinstance(node.value,
                                                                             ast.Name)
            obj = self.resolve(self.src, node)
            kind = getattr(obj, "kind", None)
            return kind is None or kind in self.uniform_specials
        if isinstance(node, ast.Subscript):
            v = node.value
            if isinstance(v, ast.Attribute) and v.attr == "shape":
                return self.is_uniform(v) and self.is_uniform(node.slice)
            if isinstance(v, ast.Name) and v.id not in self.locals:   # a global tuple
                return self.is_uniform(node.slice)
            # an element every thread reads at the same index (sizes[0], tiles[blockIdx.x])
            return isinstance(v, ast.Name) and self.is_uniform(node.slice)
        if isinstance(node, ast.Call):
            obj = self.resolve(self.src, node.func)
            if obj is None or obj in self.thread_dependent or \
                    getattr(obj, "__module__", "").startswith("pyhost.cuda.random"):
                return False
            return all(self.is_uniform(a) for a in node.args)
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
                             ast.Tuple)):
            return all(self.is_uniform(c) for c in ast.iter_child_nodes(node)
                       if isinstance(c, ast.expr))
        return False
