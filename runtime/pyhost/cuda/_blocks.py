"""Kernels with ``cuda.shared.array`` and ``cuda.syncthreads()`` on the CPU: one index of the
engine's launch is one block, whose threads run as loops split at the barriers (as CPU OpenCL
implementations do).

The body is cut at each ``cuda.syncthreads()``: the statements between two barriers (a segment)
run for every thread of the block in turn (``for tz, ty, tx``) before the next segment starts.
A ``for`` loop holding a barrier stays a loop of the block (its range must be the same for every
thread, as CUDA requires). Shared arrays become one stack array per block; a variable that lives
across a barrier becomes an array with one element per thread (its type from a first typing
pass). What cannot be cut this way (a barrier inside ``if``/``while``, ``return``, ``break`` or
``continue`` out of a segment) is rejected with its line.
"""
import ast
import copy

from .._kernels import types as kt
from .._kernels.errors import KernelSyntaxError
from . import _barrier_builtins as b

TX = ("_ph_tx", "_ph_ty", "_ph_tz")
LIN = "_ph_lin"
LOCAL_ARRAY = "_ph_local_array"


def _resolve(src, node):
    if isinstance(node, ast.Name):
        if node.id in src.closure:
            return src.closure[node.id]
        return src.globals.get(node.id, getattr(__builtins__, node.id, None)
                               if not isinstance(__builtins__, dict)
                               else __builtins__.get(node.id))
    if isinstance(node, ast.Attribute):
        base = _resolve(src, node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _calls_to(src, tree, target):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and
            _resolve(src, n.func) is target]


def uses_barriers(src):
    return bool(_calls_to(src, src.tree, b.syncthreads) or
                _calls_to(src, src.tree, b._shared_array))


class _Rewriter:
    def __init__(self, src, var_types, block):
        self.src = src
        self.var_types = var_types
        self.block = block
        self.nthreads = block[0] * block[1] * block[2]
        self.sync = b.syncthreads
        self.shared = b._shared_array
        self.params = {a.arg for a in src.tree.args.args}

    def reject(self, node, construct, hint):
        return self.src.reject(construct, node, hint)

    def is_sync(self, stmt):
        return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
            _resolve(self.src, stmt.value.func) is self.sync

    def is_shared(self, stmt):
        return isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and \
            _resolve(self.src, stmt.value.func) is self.shared

    def has_sync(self, node):
        return bool(_calls_to(self.src, node, self.sync))

    # -- cutting ---------------------------------------------------------------------------------
    def split(self, stmts):
        """[('seg', [stmts]) | ('shared', stmt) | ('for', stmt, parts)]"""
        parts, cur = [], []
        for s in stmts:
            if self.is_sync(s):
                if cur:
                    parts.append(("seg", cur))
                cur = []
            elif self.is_shared(s):
                if cur:
                    parts.append(("seg", cur))
                cur = []
                if not (len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
                    raise self.reject(s, "cuda.shared.array assigned to other than a name", "")
                parts.append(("shared", s))
            elif self.has_sync(s):
                if isinstance(s, (ast.For, ast.While)) and not s.orelse:
                    if cur:
                        parts.append(("seg", cur))
                    cur = []
                    parts.append(("for", s, self.split(s.body)))
                else:
                    call = _calls_to(self.src, s, self.sync)[0]
                    raise self.reject(call, "cuda.syncthreads() inside " +
                                      type(s).__name__.lower(),
                                      "on the CPU device a barrier may be at the top of the "
                                      "kernel or in a for/while loop that every thread runs "
                                      "alike")
            else:
                cur.append(s)
        if cur:
            parts.append(("seg", cur))
        return parts

    def check_segment(self, stmts):
        for s in stmts:
            self._check_exits(s, in_loop=False)
            for n in ast.walk(s):
                if isinstance(n, ast.Call) and _resolve(self.src, n.func) is self.shared:
                    raise self.reject(n, "cuda.shared.array inside a block", "declare shared "
                                      "arrays at the top level of the kernel")

    def _check_exits(self, node, in_loop):
        if isinstance(node, ast.Return):
            raise self.reject(node, "return in a kernel with cuda.syncthreads()",
                              "guard the code with an if instead")
        if isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            raise self.reject(node, f"{type(node).__name__.lower()} across "
                              "cuda.syncthreads()", "")
        for child in ast.iter_child_nodes(node):
            self._check_exits(child, in_loop or isinstance(node, (ast.For, ast.While)))

    # -- names -----------------------------------------------------------------------------------
    def names_of(self, nodes):
        out = set()
        for s in nodes:
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and n.id in self.var_types:
                    out.add(n.id)
        return out

    def collect(self, parts, segs, headers, block_vars):
        for p in parts:
            if p[0] == "seg":
                segs.append(self.names_of(p[1]))
            elif p[0] == "shared":
                block_vars.add(p[1].targets[0].id)
            else:
                f = p[1]
                if isinstance(f, ast.While):
                    headers |= self.names_of([f.test])
                else:
                    if not isinstance(f.target, ast.Name):
                        raise self.reject(f, "a for loop with cuda.syncthreads() over other "
                                          "than one name", "")
                    block_vars.add(f.target.id)
                    headers |= self.names_of([f.iter])
                self.collect(p[2], segs, headers, block_vars)

    # -- rebuilding ------------------------------------------------------------------------------
    def run(self):
        tree = self.src.tree
        body = tree.body
        doc = []
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            doc, body = body[:1], body[1:]
        parts = self.split(body)
        segs, headers, block_vars = [], set(), set()
        self.collect(parts, segs, headers, block_vars)
        count = {}
        for names in segs:
            for n in names:
                count[n] = count.get(n, 0) + 1
        private = {n for n, c in count.items() if c > 1 or n in headers}
        private -= block_vars
        private -= self.params
        for p in parts:
            self._check_parts(p)
        for n in sorted(private):
            t = self.var_types.get(n)
            if not isinstance(t, kt.ScalarType):
                raise self.src.error(KernelSyntaxError,
                                     f"'{n}' ({getattr(t, 'name', t)}) lives across "
                                     "cuda.syncthreads(); only numbers can",
                                     self._first_use(n), "variable across a barrier")
        for n in block_vars & set(count):
            if n not in self.params and any(n in s for s in segs) and \
                    self._assigned_in_segments(n, parts):
                raise self.src.error(KernelSyntaxError,
                                     f"'{n}' is the same for the whole block (a shared array "
                                     "or a loop with a barrier) and must not be assigned by "
                                     "the threads", self._first_use(n), "block variable")
        self.private = private
        new_body = list(doc)
        for n in sorted(private):
            t = self.var_types[n]
            self.src.closure[f"_ph_T_{t.name}"] = t
            new_body.append(self._stmt(f"_ph_pv_{n} = {LOCAL_ARRAY}({self.nthreads}, "
                                       f"_ph_T_{t.name})", tree))
        new_body.extend(self.build(parts))
        tree.body = new_body
        return tree

    def _check_parts(self, p):
        if p[0] == "seg":
            self.check_segment(p[1])
        elif p[0] == "for":
            for q in p[2]:
                self._check_parts(q)

    def _assigned_in_segments(self, name, parts):
        for p in parts:
            if p[0] == "seg":
                for s in p[1]:
                    for n in ast.walk(s):
                        if isinstance(n, ast.Name) and n.id == name and \
                                isinstance(n.ctx, ast.Store):
                            return True
            elif p[0] == "for" and self._assigned_in_segments(name, p[2]):
                return True
        return False

    def _first_use(self, name):
        for n in ast.walk(self.src.tree):
            if isinstance(n, ast.Name) and n.id == name:
                return n
        return self.src.tree

    def _stmt(self, text, where):
        node = ast.parse(text).body[0]
        for n in ast.walk(node):
            ast.copy_location(n, where)
            if hasattr(n, "end_lineno"):
                n.end_lineno, n.end_col_offset = where.lineno, getattr(where, "col_offset", 0)
        return node

    def build(self, parts):
        out = []
        for p in parts:
            if p[0] == "shared":
                s = p[1]
                call = s.value
                new = copy.copy(s)
                new.value = ast.copy_location(ast.Call(func=ast.Name(id=LOCAL_ARRAY,
                                                                     ctx=ast.Load()),
                                                       args=call.args, keywords=[]), call)
                ast.copy_location(new.value.func, call)
                out.append(new)
            elif p[0] == "for":
                f = copy.copy(p[1])
                if isinstance(f, ast.While):   # the same for every thread: thread 0's
                    f.test = _Privatize(self.private, "0").visit(copy.deepcopy(f.test))
                else:
                    f.iter = _Privatize(self.private, "0").visit(copy.deepcopy(f.iter))
                f.body = self.build(p[2]) or [ast.copy_location(ast.Pass(), f)]
                out.append(f)
            else:
                out.append(self.thread_loops(p[1]))
        return out

    def thread_loops(self, stmts):
        first = stmts[0]
        bx, by, bz = self.block
        unpack = _Unpack(self.private)
        body = [unpack.visit(copy.deepcopy(s)) for s in stmts]
        body = [x for s in body for x in (s if isinstance(s, list) else [s])]
        body = [_Privatize(self.private, LIN).visit(s) for s in body]
        lin = self._stmt(f"{LIN} = {TX[0]} + {bx} * ({TX[1]} + {by} * {TX[2]})", first)
        loop = [lin] + body
        for axis in range(3):
            f = self._stmt(f"for {TX[axis]} in range({self.block[axis]}):\n    pass", first)
            f.body = loop
            loop = [f]
        return loop[0]


class _Unpack(ast.NodeTransformer):
    """``x, y = cuda.grid(2)`` with x private: ``_ph_u_x, y = ...; x = _ph_u_x`` (the kernel
    subset unpacks into names only)."""

    def __init__(self, private):
        self.private = private

    def visit_Assign(self, node):
        t = node.targets[0] if len(node.targets) == 1 else None
        if not isinstance(t, ast.Tuple) or not any(
                isinstance(e, ast.Name) and e.id in self.private for e in t.elts):
            return node
        after = []
        for k, e in enumerate(t.elts):
            if isinstance(e, ast.Name) and e.id in self.private:
                tmp = f"_ph_u_{e.id}"
                t.elts[k] = ast.copy_location(ast.Name(id=tmp, ctx=ast.Store()), e)
                a = ast.Assign(targets=[ast.Name(id=e.id, ctx=ast.Store())],
                               value=ast.Name(id=tmp, ctx=ast.Load()))
                for n in ast.walk(a):
                    ast.copy_location(n, node)
                after.append(a)
        return [node] + after


class _Privatize(ast.NodeTransformer):
    def __init__(self, private, index):
        self.private = private
        self.index = index

    def visit_Name(self, node):
        if node.id not in self.private:
            return node
        sub = ast.Subscript(value=ast.Name(id=f"_ph_pv_{node.id}", ctx=ast.Load()),
                            slice=ast.Name(id=self.index, ctx=ast.Load()) if self.index != "0"
                            else ast.Constant(0), ctx=node.ctx)
        for n in ast.walk(sub):
            ast.copy_location(n, node)
        return sub


def rewrite(src, var_types, block):
    """Rewrites ``src.tree`` in place for block mode; returns it."""
    src.closure[LOCAL_ARRAY] = b._local_array
    return _Rewriter(src, var_types, block).run()
