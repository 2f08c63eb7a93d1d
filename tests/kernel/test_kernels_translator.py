"""Translator: the generated CUDA C++ for each construct, typing, and each rejection with its
file:line, offending source line and construct name."""
import importlib.util
import itertools
import textwrap

import pytest

from pyhost import _kernels as pk
import kernel_samples as ks

_counter = itertools.count()


def load_snippet(tmp_path, body):
    """Writes a module with `body` (kernels) and imports it; returns (module or exception, path,
    line of the `# <-` marker)."""
    text = textwrap.dedent(body).lstrip("\n")
    path = tmp_path / f"snippet_{next(_counter)}.py"
    path.write_text(text)
    marker = next((n for n, line in enumerate(text.splitlines(), 1) if "# <-" in line), None)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except pk.KernelError as exc:
        return exc, path, marker
    return module, path, marker


HEADER = """
import math
from pyhost import _kernels as pk
from pyhost._kernels import f32, f64, i32, i64, u8
"""

# (construct name, kernel body lines; the offending line is marked `# <-`)
REJECTIONS = [
    ("try statement", """
    try:  # <-
        x[i] = 1.0
    except Exception:
        pass"""),
    ("with statement", """
    with open("f") as f:  # <-
        pass"""),
    ("lambda", "f = lambda v: v  # <-"),
    ("list comprehension", "y = [k for k in range(3)]  # <-"),
    ("list", "y = [1, 2]  # <-"),
    ("dict", "y = {}  # <-"),
    ("set", "y = {1, 2}  # <-"),
    ("generator expression", "s = sum(k for k in range(3))  # <-"),
    ("string", 's = "text"  # <-'),
    ("f-string", 's = f"{i}"  # <-'),
    ("None", "y = None  # <-"),
    ("raise statement", "raise ValueError()  # <-"),
    ("assert statement", "assert i >= 0  # <-"),
    ("del statement", "del i  # <-"),
    ("global statement", "global COUNT  # <-"),
    ("import statement", "import os  # <-"),
    ("class definition", """
    class C:  # <-
        pass"""),
    ("nested function definition", """
    def inner():  # <-
        return 1"""),
    ("yield", "yield i  # <-"),
    ("assignment expression (:=)", "y = (k := 3)  # <-"),
    ("starred expression", "a, *b = 1, 2, 3  # <-"),
    ("slicing", "y = x[1:3]  # <-"),
    ("match statement", """
    match i:  # <-
        case 0:
            pass"""),
    ("matrix multiplication operator (@)", "y = i @ i  # <-"),
    ("'is' comparison", "b = i is None  # <-"),
    ("'in' comparison", "b = i in x  # <-"),
    ("else clause on a for loop", """
    for k in range(3):
        pass
    else:
        pass  # <-"""),
    ("else clause on a while loop", """
    while i > 0:
        i -= 1
    else:
        pass  # <-"""),
    ("for loop over something other than range()", """
    for v in x:  # <-
        pass"""),
    ("keyword arguments", "y = max(i, 3, key=abs)  # <-"),
    ("call to print()", "print(i)  # <-"),
    ("method call .append()", "x.append(1.0)  # <-"),
    ("tuple variable", "t = (i, i)  # <-"),
    ("return value in a kernel", "return i  # <-"),
    ("range() outside a for loop", "r = range(3)  # <-"),
    ("non-integer index", "x[1.5] = 0.0  # <-"),
    ("subscript", "y = x[i, i]  # <-"),
    ("mixed types", """
    v = x
    v = 1.0  # <-"""),
    ("operand types", "y = x[i] & 3  # <-"),
    ("use of list", "y = LIST[0]  # <-"),
]


@pytest.mark.parametrize("construct,body", REJECTIONS, ids=[c for c, _ in REJECTIONS])
def test_rejected_construct(tmp_path, construct, body):
    src = HEADER + "\nLIST = [1, 2]\nCOUNT = 0\n\n@pk.kernel\ndef bad(x: f32[:]):\n    i = pk.tid()\n"
    src += textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    exc, path, line = load_snippet(tmp_path, src)
    assert isinstance(exc, pk.KernelError), f"{construct} was accepted"
    assert exc.construct == construct
    assert exc.filename == str(path)
    assert exc.lineno == line
    assert "# <-" in exc.source_line
    text = str(exc)
    assert f"{path}:{line}:" in text
    assert exc.source_line.strip() in text


def test_rejection_message_names_construct_and_kernel(tmp_path):
    exc, path, line = load_snippet(tmp_path, HEADER + """
@pk.kernel
def uses_try(x: f32[:]):
    try:  # <-
        pass
    finally:
        pass
""")
    assert isinstance(exc, pk.KernelSyntaxError)
    assert str(exc).splitlines()[0] == (
        f"{path}:{line}: try statement is not supported in @pyhost.kernel 'uses_try'")
    assert str(exc).splitlines()[1].strip() == "try:  # <-"


def test_recursion_rejected(tmp_path):
    exc, path, line = load_snippet(tmp_path, HEADER + """
@pk.func
def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)  # <-

@pk.kernel
def k(out: i64[:]):
    i = pk.tid()
    out[i] = fact(i)
""")
    assert isinstance(exc, pk.KernelSyntaxError)
    assert exc.construct == "recursion"
    assert exc.lineno == line and "fact" in str(exc)


def test_mutual_recursion_rejected(tmp_path):
    exc, _, _ = load_snippet(tmp_path, HEADER + """
@pk.func
def ping(n):
    return pong(n - 1) if n > 0 else 0

@pk.func
def pong(n):
    return ping(n - 1) if n > 0 else 1  # <-

@pk.kernel
def k(out: i64[:]):
    i = pk.tid()
    out[i] = ping(i)
""")
    assert isinstance(exc, pk.KernelError) and exc.construct == "recursion"


@pytest.mark.parametrize("construct,header,body", [
    ("missing annotation", "def bad(x, y: f32[:]):  # <-", "pass"),
    ("type annotation", "def bad(x: list):  # <-", "pass"),
    ("default argument values", "def bad(x: f32 = 1.0):  # <-", "pass"),
    ("variable arguments (*args/**kwargs)", "def bad(*args):  # <-", "pass"),
    ("async function", "async def bad(x: f32):  # <-", "pass"),
])
def test_rejected_signature(tmp_path, construct, header, body):
    exc, path, line = load_snippet(tmp_path, HEADER + f"\n@pk.kernel\n{header}\n    {body}\n")
    assert isinstance(exc, pk.KernelError)
    assert exc.construct == construct
    assert exc.lineno == line


def test_tid_in_func_rejected(tmp_path):
    exc, _, line = load_snippet(tmp_path, HEADER + """
@pk.func
def helper():
    return pk.tid()  # <-

@pk.kernel
def k(out: i64[:]):
    out[0] = helper()
""")
    assert exc.construct == "pyhost.tid() in a @pyhost.func" and exc.lineno == line


def test_kernel_called_from_kernel_rejected(tmp_path):
    exc, _, line = load_snippet(tmp_path, HEADER + """
@pk.kernel
def inner(x: f32[:]):
    x[0] = 1.0

@pk.kernel
def outer(x: f32[:]):
    inner(x)  # <-
""")
    assert exc.construct == "calling a kernel from a kernel" and exc.lineno == line


def test_atomic_add_on_u8_rejected(tmp_path):
    exc, _, line = load_snippet(tmp_path, HEADER + """
@pk.kernel
def k(x: u8[:]):
    pk.atomic_add(x, 0, 1)  # <-
""")
    assert exc.construct == "atomic_add type" and exc.lineno == line


def test_tid_dimension_conflict_rejected(tmp_path):
    exc, _, line = load_snippet(tmp_path, HEADER + """
@pk.kernel
def k(x: f32[:]):
    i = pk.tid()
    a, b = pk.tid()  # <-
""")
    assert exc.construct == "tid dimensions" and exc.lineno == line


def test_undefined_name_reported_at_first_use(tmp_path):
    module, path, line = load_snippet(tmp_path, HEADER + """
@pk.kernel
def k(x: f32[:]):
    x[0] = not_defined_anywhere  # <-
""")
    assert not isinstance(module, Exception)  # deferred: it may be defined later in the file
    with pytest.raises(pk.KernelTypeError) as info:
        module.k.source
    assert info.value.construct == "undefined name" and info.value.lineno == line
    assert "not_defined_anywhere" in str(info.value)


def test_name_defined_after_the_kernel(tmp_path):
    module, _, _ = load_snippet(tmp_path, HEADER + """
@pk.kernel
def k(x: f64[:]):
    i = pk.tid()
    x[i] = helper(LATER)

@pk.func
def helper(v):
    return v * 2.0

LATER = 21
""")
    # The code, not its comments: those quote the snippet's path, and pytest's tmp_path may hold
    # "42" (pytest-428) as well as any other number.
    code = "\n".join(line for line in module.k.source.splitlines()
                     if not line.lstrip().startswith("//"))
    assert "ph_f_helper(ph_err, 21LL)" in code and "42" not in code
    x = memoryview(bytearray(8)).cast("d")
    with_device = pk.get_device
    pk.set_device("python")
    try:
        module.k[1](x)
    finally:
        pk.set_device("auto")
    assert x[0] == 42.0 and with_device


# ---- generated code for each construct ----------------------------------------------------

def test_source_is_readable_cuda_with_python_lines():
    src = ks.saxpy.source
    assert "// kernel_samples.py:" in src and "y[i] = a * x[i] + y[i]" in src
    assert 'extern "C" __global__ void ph_k_saxpy(' in src
    assert 'extern "C" void ph_c_saxpy(' in src
    assert "ph_f32 a, ph_array<ph_f32, 1> x, ph_array<ph_f32, 1> y" in src
    assert "ph_random" not in src  # the prelude is apart: .full_source
    assert "ph_random" in ks.saxpy.full_source


def test_dims_and_written_parameters():
    assert ks.saxpy.dims == 1 and ks.mandelbrot.dims == 2 and ks.grid3d.dims == 3
    assert ks.tiny_read.dims is None
    tr = ks.saxpy._translate()
    assert tr.writable == [False, False, True]
    assert ks.funcs._translate().writable == [False, False, True]  # written inside a func
    assert ks.short_circuit._translate().writable == [False, True, True]  # atomic in a func


def test_types_of_locals():
    src = ks.mandelbrot_inline.source
    assert "ph_f64 zr = 0;" in src and "ph_i64 n = 0;" in src and "ph_i64 px = 0;" in src
    src = ks.f32_math.source
    assert "ph_f32 v = 0;" in src
    assert "ph_sqrt(((v * v) + 1.0f))" in src  # f32 stays f32 with float literals


def test_true_division_floor_mod_pow():
    src = ks.int_ops.source
    assert "ph_floordiv_i(x, y," in src and "ph_mod_i(x, y," in src
    assert "ph_ipow(x, ph_mod_i(y, 5LL," in src
    assert "int(x / y * 1000)" in src and "ph_div(((ph_f64)x), ((ph_f64)y)," in src
    src = ks.float_ops.source
    assert "ph_floordiv_f(x, y," in src and "ph_mod_f(x, y," in src
    assert "ph_pow(x, 2.0)" in src


def test_chained_comparison_evaluates_middle_once():
    src = ks.int_ops.source
    assert "(((-10LL) < x) && (x < y) && (y <= 40LL))" in src
    src = ks.float_ops.source  # middle operand `y * 2` is not a name: temp + nested ifs
    line = src.split("1.0 < x <= y * 2 < 100")[1]
    assert "ph_tmp" in line and "if (ph_tmp" in line


def test_short_circuit_keeps_side_effects_conditional():
    src = ks.short_circuit.source
    body = src.split("if v > 0 and bump(counter) >= 0")[1].split("r += 1")[0]
    assert "if (ph_tmp" in body and "ph_f_bump(ph_err, counter)" in body


def test_tuple_assignment_evaluates_right_side_first():
    src = ks.fibonacci.source
    part = src.split("a, b = b, a + b")[1].split("}")[0]
    lines = [l.strip() for l in part.splitlines() if l.strip()]
    assert lines[0].startswith("ph_tmp") and lines[1].startswith("ph_tmp")
    assert lines[2].startswith("a = ph_tmp") and lines[3].startswith("b = ph_tmp")


def test_while_with_statements_in_condition():
    src = ks.mandelbrot.source
    assert "while (((n < ((ph_i64)max_iter)) && ((((zr * zr) + (zi * zi))) <= 4.0)))" in src or \
        "while ((" in src


def test_generic_func_specialized_per_types():
    src = ks.funcs.source
    assert "PH_FN ph_f64 ph_f_clamp(int* ph_err, ph_f64 v, ph_f64 lo, ph_f64 hi)" in src
    assert "PH_FN ph_i64 ph_f_clamp_1(int* ph_err, ph_i64 v, ph_i64 lo, ph_i64 hi)" in src
    assert src.index("ph_f_clamp(") < src.index("ph_body_funcs(")  # callees first


def test_range_loop_uses_hidden_counter():
    src = ks.loops.source
    assert "for (ph_tmp" in src and "> 0LL ? " not in src  # constant steps: plain conditions
    assert "-= 2" not in src and "+= (-2LL)" in src


def test_constants_frozen_and_keywords_mangled(tmp_path):
    module, _, _ = load_snippet(tmp_path, HEADER + """
K = 7
@pk.kernel
def k(x: i64[:]):
    new = pk.tid()
    x[new] = K * new
""")
    src = module.k.source
    assert "ph_v_new" in src and "7LL" in src


def test_kernel_object_api():
    assert repr(ks.saxpy) == "<pyhost.kernel saxpy>"
    assert ks.saxpy.__doc__ == "y = a*x + y"
    with pytest.raises(TypeError, match=r"saxpy\[n\]"):
        ks.saxpy(1.0, None, None)
    with pytest.raises(TypeError):
        ks.saxpy[1, 2, 3, 4]
    with pytest.raises(ValueError):
        ks.saxpy[-1]
    with pytest.raises(pk.KernelLaunchError, match="1-D index"):
        ks.saxpy[2, 2](1.0, None, None)
    with pytest.raises(TypeError, match="takes 3 argument"):
        ks.saxpy[2](1.0)


def test_public_names_exist():
    for name in pk.PUBLIC_NAMES:
        assert getattr(pk, name) is not None
    assert repr(pk.f32[:, :]) == "pyhost.f32[:, :]"
    with pytest.raises(TypeError):
        pk.f32[1:2]
