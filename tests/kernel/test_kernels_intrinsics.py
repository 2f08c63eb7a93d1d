"""The intrinsics table: one entry per function kernels may call (typing, lowering, Python
reference, prelude), found by the called object; and the translator's modules import one another
without a circle."""
import ast
import array
import importlib.util
import pathlib
import textwrap

import pytest

from kernel_testing import device, needs_cpu
from pyhost import _kernels as pk
from pyhost._kernels import intrinsics, prelude
from pyhost._kernels import types as kt
from pyhost._kernels.typing_rules import Val, cast

PACKAGE = pathlib.Path(pk.__file__).parent


def cube_plus(x, k):
    """The Python reference of a test intrinsic: x ** 3 + k."""
    return x * x * x + k


def lower_cube_plus(tr, node, label):
    x, k = tr.call_args(node, 2, "cube_plus(x, k)")
    return Val(f"ph_test_cube_plus({cast(x, kt.f64)}, {cast(k, kt.f64)})", kt.f64)


CUBE_PRELUDE = "PH_FN ph_f64 ph_test_cube_plus(ph_f64 x, ph_f64 k) { return x * x * x + k; }"


def kernel_module(tmp_path, body):
    path = tmp_path / "intrinsic_kernels.py"
    path.write_text("from pyhost import _kernels as pk\nfrom pyhost._kernels import *\n"
                    "import test_kernels_intrinsics as t\n" + textwrap.dedent(body))
    spec = importlib.util.spec_from_file_location("intrinsic_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_cpu
def test_adding_an_intrinsic_is_one_entry(tmp_path):
    before = prelude.full_prelude()
    intrinsics.register(cube_plus, lower_cube_plus, CUBE_PRELUDE)
    assert "ph_test_cube_plus" not in before
    assert CUBE_PRELUDE in prelude.full_prelude()
    m = kernel_module(tmp_path, """
        @pk.kernel
        def use(x: f64[:], out: f64[:]):
            i = pk.tid()
            out[i] = t.cube_plus(x[i], 0.5)
    """)
    results = {}
    for dev in ("python", "cpu"):
        x = array.array("d", [0.1 * k for k in range(20)])
        out = array.array("d", [0.0]) * 20
        with device(dev):
            m.use[20](x, out)
        results[dev] = out.tobytes()
    assert results["python"] == results["cpu"]
    assert array.array("d", results["cpu"])[3] == cube_plus(0.1 * 3, 0.5)


def test_an_unknown_function_is_still_rejected(tmp_path):
    with pytest.raises(pk.KernelSyntaxError, match="call to getpid"):
        kernel_module(tmp_path, """
            import os
            @pk.kernel
            def bad(out: f64[:]):
                i = pk.tid()
                out[i] = os.getpid()
        """)


def test_every_entry_brings_its_own_prelude():
    import math
    text = prelude.full_prelude()
    for fn, name in ((math.sqrt, "PH_M1(sqrt, sqrt)"), (pk.random, "ph_random(ph_i64 seed"),
                     (pk.atomic_add, "ph_atomic_add(const ph_array")):
        entry = intrinsics.lookup(fn)
        assert entry is not None and entry.python is fn
        snippets = (entry.prelude,) if isinstance(entry.prelude, str) else entry.prelude
        assert any(name in s for s in snippets)
        assert name in text
    assert pk.random is intrinsics.random  # the reference is the object kernels call
    assert intrinsics.lookup([1, 2]) is None  # unhashable: nothing to call


def test_no_import_circle_in_the_kernels_package():
    deps = {}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names.update([node.module] if node.module else [a.name for a in node.names])
        deps[path.stem] = names

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in deps.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    for module in deps:
        if module != "__init__":
            assert module not in reach(module), f"{module} imports itself through others"
    assert "core" not in reach("translator")
