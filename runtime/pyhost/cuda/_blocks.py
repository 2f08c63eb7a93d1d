"""Kernels with ``cuda.shared.array`` and ``cuda.syncthreads()`` on the CPU: one index of the
engine's launch is one block, whose threads run as loops split at the barriers (as CPU OpenCL
implementations do).

The body is cut at each ``cuda.syncthreads()``: the statements between two barriers (a segment)
run for every thread of the block in turn (``for tz, ty, tx``) before the next segment starts.
A ``for``/``while`` loop or an ``if`` holding a barrier stays a loop or branch of the block: its
test must be the same for every thread, as CUDA requires. Where ``_uniform.py`` cannot prove it,
each thread computes the test and the launch fails where one differs from thread 0's
(``agreement``); the block follows thread 0's value. Shared arrays become one stack array per block; a variable that lives across a
barrier becomes an array with one element per thread (its type from a first typing pass). What
cannot be cut this way (a ``for`` whose range differs per thread, ``return`` after a barrier,
``break`` or ``continue`` out of a segment) is rejected with its line. A cooperative kernel
(``_grid.py``) is cut the same way with the whole launch as the block.
"""
import ast
import copy

from .._kernels import types as kt
from .._kernels.errors import KernelSyntaxError
from . import _builtins as b
from ._grid import grid_sync
from ._source_utils import TX, _resolve
from ._uniform import Uniformity

LIN = "_ph_lin"
LOCAL_ARRAY = "_ph_local_array"
LIVE = "_ph_live"   # False for a thread that returned before the first barrier
AGREE = "_ph_agree"  # the run-time check that the threads of a block took a branch alike


def _calls_to(src, tree, target):
    targets = target if isinstance(target, tuple) else (target,)
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and
            any(_resolve(src, n.func) is t for t in targets)]


def uses_barriers(src):
    return bool(_calls_to(src, src.tree, (b.syncthreads, grid_sync)) or
                _calls_to(src, src.tree, b._shared_array))


class _Rewriter:
    def __init__(self, src, var_types, block, grid=False):
        self.src = src
        self.var_types = var_types
        self.block = block      # the block's shape, or the grid's extent in grid mode
        self.grid = grid        # a cooperative kernel (_grid.py): all the launch is one group
        self.nthreads = block[0] * block[1] * block[2]
        self.sync = (b.syncthreads, grid_sync)
        self.shared = b._shared_array
        self.params = {a.arg for a in src.tree.args.args}
        self.uniform = Uniformity(src, _resolve, grid=grid)
        self.checked_tests = {}   # _ph_cN -> the test of an if/while checked at run time

    def reject(self, node, construct, hint):
        return self.src.reject(construct, node, hint)

    def is_sync(self, stmt):
        return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
            _resolve(self.src, stmt.value.func) in self.sync

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
                if self.grid:
                    raise self.reject(s, "cuda.shared.array in a kernel that syncs its grid",
                                      "on the CPU device the whole grid runs as one group; "
                                      "use a global array (cuda.device_array) instead")
                parts.append(("shared", s))
            elif self.has_sync(s):
                if isinstance(s, (ast.For, ast.While, ast.If)) and not (
                        isinstance(s, (ast.For, ast.While)) and s.orelse):
                    if cur:
                        parts.append(("seg", cur))
                    cur = []
                    test = s.iter if isinstance(s, ast.For) else s.test
                    checked = None
                    if not self.uniform.is_uniform(test):
                        if isinstance(s, ast.For):
                            self.check_uniform(s)   # raises: a range per thread
                        checked = self.agreement(s)
                        parts.append(checked)
                        s = copy.copy(s)
                        s.test = ast.copy_location(ast.Name(id=checked[2], ctx=ast.Load()),
                                                   s.test)
                    if isinstance(s, ast.If):
                        parts.append(("if", s, self.split(s.body), self.split(s.orelse)))
                    else:
                        body = self.split(s.body)
                        if checked is not None:   # tested again after each round
                            body.append(self.agreement(s, checked[2]))
                        parts.append(("for", s, body))
                else:
                    call = _calls_to(self.src, s, self.sync)[0]
                    raise self.reject(call, "cuda.syncthreads() inside " +
                                      type(s).__name__.lower(),
                                      "on the CPU device a barrier may be at the top of the "
                                      "kernel or in a for/while/if that every thread of the "
                                      "block runs alike")
            else:
                cur.append(s)
        if cur:
            parts.append(("seg", cur))
        return parts

    def agreement(self, s, name=None):
        """A segment that computes the test of ``s`` (an if/while holding a barrier, its test
        not provably the same for the block) per thread, and checks that every thread got
        thread 0's value: where they differ the launch fails with ValueError at this line;
        the block then follows thread 0's value. ('seg', stmts, the test's variable)"""
        if name is None:
            self.n_checked = getattr(self, "n_checked", 0) + 1
            name = f"_ph_c{self.n_checked}"
            self.var_types[name] = kt.boolean
            self.checked_tests[name] = s.test
        test = self.checked_tests[name]
        assign = self._stmt(f"{name} = bool(0)", test)
        assign.value.args[0] = copy.deepcopy(test)
        agree = self._stmt(f"{AGREE}({name} == _ph_pv_{name}[0])", test)
        return ("seg", [assign, agree], name)

    def _barrier_name(self, call):
        return "grid.sync()" if _resolve(self.src, call.func) is grid_sync else \
            "cuda.syncthreads()"

    def check_uniform(self, s):
        """The test of a branch or loop that holds a barrier must be the same for all the
        threads of the block, or of the launch for a grid barrier (``_uniform.py``)."""
        test = s.iter if isinstance(s, ast.For) else s.test
        if self.uniform.is_uniform(test):
            return
        what = {ast.If: "an if", ast.While: "a while loop", ast.For: "a for loop"}[type(s)]
        call = _calls_to(self.src, s, self.sync)[0]
        barrier = self._barrier_name(call)
        group = "the launch" if self.grid else "a block"
        depends = "threadIdx, blockIdx" if self.grid else "threadIdx"
        allowed = "blockDim, gridDim" if self.grid else "blockIdx, blockDim"
        raise self.src.error(
            KernelSyntaxError,
            f"{barrier} inside {what} whose condition differs between the threads of {group} "
            f"('{ast.unparse(test)}' depends on {depends}, cuda.grid() or array elements) is "
            f"not supported in @pyhost.kernel '{self.src.name}' (some threads would wait at a "
            f"barrier the others never reach: move the barrier out of the "
            f"{what[what.index(' ') + 1:]}, or test only {allowed}, arguments and constants)",
            call, f"{barrier} inside {what[what.index(' ') + 1:]}")

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
            elif p[0] == "if":
                headers |= self.names_of([p[1].test])
                self.collect(p[2], segs, headers, block_vars)
                self.collect(p[3], segs, headers, block_vars)
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
        body = self._early_return(body)
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
        # fewer per-thread arrays: block-uniform assignments run once per block, and a variable
        # set once from thread indices and arguments is recomputed where it is used
        self.hoisted = self._hoistable(parts, block_vars)
        self.remat = self._rematerializable(parts, headers | self.hoisted | block_vars)
        if self.live_before is not None:   # the early return's flag: recomputed or per thread
            if self._thread_pure(self.live_guard.value, self._pure_ok):
                self.remat.append((self.live_guard, [LIVE]))
            else:
                private.add(LIVE)
        private -= self.hoisted
        private -= {n for _, names in self.remat for n in names}
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
        risky = private & headers - set(self.checked_tests)
        if self.live_before is not None and risky:
            n = sorted(risky)[0]
            raise self.src.error(
                KernelSyntaxError, f"'{n}' decides a loop or branch with a barrier and differs "
                f"between threads, in a kernel whose threads may return early; not supported "
                f"in @pyhost.kernel '{self.src.name}' (compute '{n}' from blockIdx, blockDim, "
                f"arguments and constants only, or guard the work with an if instead of "
                f"returning)", self._first_use(n), "early return")
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

    # -- block-level assignments and recomputed variables -----------------------------------------
    def _segments(self, parts):
        for p in parts:
            if p[0] == "seg":
                yield p[1]
            elif p[0] == "for":
                yield from self._segments(p[2])
            elif p[0] == "if":
                yield from self._segments(p[2])
                yield from self._segments(p[3])

    @staticmethod
    def _target_names(stmt):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            t = stmt.targets[0]
        elif isinstance(stmt, ast.AugAssign):
            t = stmt.target
        else:
            return None
        elts = t.elts if isinstance(t, ast.Tuple) else [t]
        if not all(isinstance(e, ast.Name) for e in elts):
            return None
        return [e.id for e in elts]

    def _hoistable(self, parts, block_vars):
        """Locals of the same value for the whole block (``_uniform.py``) whose every
        assignment is a statement of a segment's top level: those statements run once per
        block, between the thread loops, and the variables stay plain numbers."""
        cands = {n for n in self.uniform.locals if n not in self.uniform.varying} - \
            self.params - block_vars
        tops = {id(s) for seg in self._segments(parts) for s in seg}
        for node in ast.walk(self.src.tree):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
                names = self._target_names(node) if id(node) in tops else None
                if names is None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        for n in ast.walk(t):
                            if isinstance(n, ast.Name):
                                cands.discard(n.id)
        for seg in self._segments(parts):
            for st in seg:
                names = self._target_names(st)
                if names and any(n in cands for n in names) and \
                        not all(n in cands for n in names):
                    cands -= set(names)
        return {n for n in cands if isinstance(self.var_types.get(n), kt.ScalarType)}

    def _thread_pure(self, node, ok):
        """Whether ``node`` reads only thread/block indices, arguments, constants and the
        variables in ``ok`` (no memory, no atomics or random draws)."""
        import builtins
        pure_calls = {b.grid, b.gridsize, builtins.min, builtins.max, builtins.abs,
                      builtins.int, builtins.float, builtins.len}
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in self.uniform.locals and n.id not in ok:
                return False
            elif isinstance(n, ast.Subscript):
                if not (isinstance(n.value, ast.Attribute) and n.value.attr == "shape"):
                    return False
            elif isinstance(n, ast.Call):
                obj = _resolve(self.src, n.func)
                if obj not in pure_calls and getattr(obj, "__module__", None) != "math":
                    return False
        return True

    def _rematerializable(self, parts, excluded):
        """[(statement, names)] in program order: variables assigned once, at a segment's top
        level, from thread-pure values (``i = cuda.grid(1)``, ``tid = cuda.threadIdx.x``):
        each thread loop that reads them recomputes them instead of keeping one per thread."""
        from .._kernels.source import assignment_counts
        counts = assignment_counts(self.src.tree)
        ok = {a.arg for a in self.src.tree.args.args if not counts.get(a.arg)}  # never assigned
        out = []
        for seg in self._segments(parts):
            for st in seg:
                names = self._target_names(st)
                if not names or not isinstance(st, ast.Assign):
                    continue
                if all(counts.get(n) == 1 and n not in excluded and n not in self.params and
                       isinstance(self.var_types.get(n), kt.ScalarType) for n in names) and \
                        self._thread_pure(st.value, ok):
                    ok |= set(names)
                    out.append((st, names))
        self._pure_ok = ok
        return out

    def _early_return(self, body):
        """``if i >= n: return`` at the top of the kernel, before its first barrier: the
        threads that leave skip the rest (they count as arrived at the barriers, as CUDA
        treats exited threads): it becomes ``_ph_live = not (i >= n)`` and every later
        statement of the thread loops runs under ``if _ph_live:``."""
        self.live_before = None
        for k, st in enumerate(body):
            if self.has_sync(st):
                break
            if isinstance(st, ast.If) and not st.orelse and len(st.body) == 1 and \
                    isinstance(st.body[0], ast.Return) and st.body[0].value is None:
                guard = self._stmt(f"{LIVE} = not (0)", st)
                guard.value.operand = st.test
                self.var_types[LIVE] = kt.boolean
                self.live_before = {id(x) for x in body[:k]} | {id(guard)}
                self.live_guard = guard
                return body[:k] + [guard] + body[k + 1:]
        return body

    def _check_parts(self, p):
        if p[0] == "seg":
            self.check_segment(p[1])
        elif p[0] == "for":
            for q in p[2]:
                self._check_parts(q)
        elif p[0] == "if":
            for q in p[2] + p[3]:
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
            elif p[0] == "if" and self._assigned_in_segments(name, p[2] + p[3]):
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
            elif p[0] == "if":   # the same for every thread: thread 0's test
                f = copy.copy(p[1])
                f.test = _Privatize(self.private, "0").visit(copy.deepcopy(f.test))
                f.body = self.build(p[2]) or [ast.copy_location(ast.Pass(), f)]
                f.orelse = self.build(p[3])
                out.append(f)
            elif p[0] == "for":
                f = copy.copy(p[1])
                if isinstance(f, ast.While):   # the same for every thread: thread 0's
                    f.test = _Privatize(self.private, "0").visit(copy.deepcopy(f.test))
                else:
                    f.iter = _Privatize(self.private, "0").visit(copy.deepcopy(f.iter))
                f.body = self.build(p[2]) or [ast.copy_location(ast.Pass(), f)]
                out.append(f)
            else:
                group = []
                for st in p[1]:
                    names = self._target_names(st)
                    if names and all(n in self.hoisted for n in names):
                        if group:
                            out.append(self.thread_loops(group))
                        group = []
                        out.append(_Privatize(self.private, "0").visit(copy.deepcopy(st)))
                    else:
                        group.append(st)
                if group:
                    out.append(self.thread_loops(group))
        return out

    def _recomputed(self, stmts):
        """Copies of the rematerialized assignments the statements read (and those they
        read), in program order, except those the statements make themselves."""
        defined = {id(s) for s in stmts}
        reads = {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)}
        need = set()
        for st, names in reversed(self.remat):
            if id(st) not in defined and reads & set(names):
                need.add(id(st))
                reads |= {n.id for n in ast.walk(st.value) if isinstance(n, ast.Name)}
        return [copy.deepcopy(st) for st, _ in self.remat if id(st) in need]

    def _is_thread_x(self, node):
        """``cuda.threadIdx.x``, or a variable recomputed as exactly that."""
        if isinstance(node, ast.Name):
            for st, names in self.remat:
                if names == [node.id]:
                    return self._is_thread_x(st.value)
            return False
        return _resolve(self.src, node) is b.threadIdx.x

    def _x_limit(self, stmts):
        """The bound of ``if tid < s:`` when it is all a segment does (a tree reduction's
        step): the x loop runs over ``min(blockDim.x, s)`` threads instead of testing each
        (1-D blocks; ``s`` the same for the block)."""
        if self.grid or self.block[1] != 1 or self.block[2] != 1 or len(stmts) != 1:
            return None
        st = stmts[0]
        if not isinstance(st, ast.If) or st.orelse:
            return None
        t = st.test
        if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Lt)
                and self._is_thread_x(t.left) and self.uniform.is_uniform(t.comparators[0])):
            return None
        return _Privatize(self.private, "0").visit(copy.deepcopy(t.comparators[0]))

    def thread_loops(self, stmts):
        limit = self._x_limit(stmts)
        if self.live_before is not None:   # after an early return: the live threads only
            pre = [st for st in stmts if id(st) in self.live_before]
            post = [st for st in stmts if id(st) not in self.live_before]
            if post:
                guarded = self._stmt(f"if {LIVE}:\n    pass", post[0])
                guarded.body = post
                stmts = pre + [guarded]
        stmts = self._recomputed(stmts) + list(stmts)
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
            if axis == 0 and limit is not None:
                f.iter = self._stmt(f"range(min({self.block[0]}, 0))", first).value
                f.iter.args[0].args[1] = limit
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


def rewrite(src, var_types, block, grid=False):
    """Rewrites ``src.tree`` in place for block mode (``grid``: ``block`` is the extent of a
    cooperative launch, _grid.py); returns it."""
    src.closure[LOCAL_ARRAY] = b._local_array
    src.closure[AGREE] = b.threads_agree
    return _Rewriter(src, var_types, block, grid).run()
