"""Kernels used by the kernel tests. Every kernel here is also compiled to PTX by NVRTC in
test_kernels_nvrtc.py, so keep all valid test kernels in this module."""
import math

from pyhost import _kernels as pk
from pyhost._kernels import f32, f64, i32, i64, u8, u32, boolean

SCALE = 3          # frozen into kernels as a constant
HALF = 0.5


@pk.kernel
def saxpy(a: pk.f32, x: pk.f32[:], y: pk.f32[:]):
    """y = a*x + y"""
    i = pk.tid()
    y[i] = a * x[i] + y[i]


@pk.kernel
def saxpy64(a: f64, x: f64[:], y: f64[:]):
    i = pk.tid()
    y[i] = a * x[i] + y[i]


@pk.func
def escape_time(cr: f64, ci: f64, max_iter: i32) -> i32:
    zr, zi = 0.0, 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 4.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    return n


@pk.kernel
def mandelbrot(out: i32[:, :], x0: f64, y0: f64, step: f64, max_iter: i32):
    px, py = pk.tid()
    out[py, px] = escape_time(x0 + px * step, y0 + py * step, max_iter)


@pk.kernel
def mandelbrot_inline(out: u8[:, :], x0: f64, y0: f64, step: f64, max_iter: i32):
    px, py = pk.tid()
    cr = x0 + px * step
    ci = y0 + py * step
    zr = zi = 0.0
    n = 0
    while zr * zr + zi * zi <= 4.0:
        if n >= max_iter:
            break
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    out[py, px] = n % 256


@pk.kernel
def monte_carlo_pi(hits: i64[:], seed: i64, samples: i32):
    t = pk.tid()
    inside = 0
    for k in range(samples):
        c = (t * samples + k) * 2
        x = pk.random(seed, c)
        y = pk.random(seed, c + 1)
        if x * x + y * y <= 1.0:
            inside += 1
    pk.atomic_add(hits, 0, inside)


@pk.kernel
def random_fill(out: f64[:], seed: i64):
    i = pk.tid()
    out[i] = pk.random(seed, i)


@pk.kernel
def partial_sums(x: f64[:], partial: f64[:], chunk: i64):
    t = pk.tid()
    s = 0.0
    for k in range(t * chunk, min((t + 1) * chunk, len(x))):
        s += x[k]
    partial[t] = s


@pk.kernel
def atomic_sum_int(x: i64[:], total: i64[:]):
    i = pk.tid()
    pk.atomic_add(total, 0, x[i])


@pk.kernel
def atomic_sum_f32(x: f32[:], total: f32[:]):
    i = pk.tid()
    pk.atomic_add(total, 0, x[i])


@pk.kernel
def histogram(values: i32[:], bins: u32[:]):
    i = pk.tid()
    b = values[i] % len(bins)
    pk.atomic_add(bins, b, 1)


@pk.kernel
def int_ops(a: i64[:], b: i64[:], out: i64[:, :]):
    i = pk.tid()
    x = a[i]
    y = b[i]
    out[i, 0] = x // y
    out[i, 1] = x % y
    out[i, 2] = x * y - y
    out[i, 3] = x ** (y % 5)
    out[i, 4] = (x & y) + (x | 7) + (x ^ y)
    out[i, 5] = ~x
    out[i, 6] = -x % 7
    out[i, 7] = abs(x) + min(x, y) - max(x, y, 3)
    out[i, 8] = x < y
    out[i, 9] = -10 < x < y <= 40
    out[i, 10] = int(x / y * 1000)
    out[i, 11] = x << (y % 8)
    out[i, 12] = x >> (y % 8)
    out[i, 13] = x // -3 + x % -3
    out[i, 14] = 7 // y + 7 % y
    out[i, 15] = x * SCALE


@pk.kernel
def float_ops(a: f64[:], b: f64[:], out: f64[:, :]):
    i = pk.tid()
    x = a[i]
    y = b[i]
    out[i, 0] = x / y
    out[i, 1] = x // y
    out[i, 2] = x % y
    out[i, 3] = x ** 2 + y ** 0.5 if y > 0 else x ** 3
    out[i, 4] = abs(x) + min(x, y) - max(x, y)
    out[i, 5] = math.sqrt(abs(x)) + math.floor(x) + math.ceil(y) + math.trunc(x)
    out[i, 6] = math.sin(x) * math.cos(y) + math.tan(x / 100)
    out[i, 7] = math.exp(x / 50) + math.log(abs(y) + 1) + math.log(abs(x) + 2, 10)
    out[i, 8] = math.atan2(x, y) + math.hypot(x, y) + math.fmod(x, y)
    out[i, 9] = round(x) + int(y) + float(int(x * 10)) / 10
    out[i, 10] = math.copysign(HALF, x) + math.pi * (x > y) - math.e * (x == y)
    out[i, 11] = -x // 0.75 + -x % 0.75
    out[i, 12] = i / 3 + i // 3 * 1.0
    out[i, 13] = math.isnan(x / y) + math.isinf(x) + math.isfinite(y)
    out[i, 14] = 1.0 < x <= y * 2 < 100


@pk.kernel
def f32_math(x: f32[:], out: f32[:]):
    i = pk.tid()
    v = x[i]
    out[i] = math.sqrt(v * v + 1.0) + 2.0 * v / (abs(v) + 1.0) - math.floor(v) * 0.5


@pk.func
def bump(counter: i64[:]) -> i64:
    return pk.atomic_add(counter, 0, 1)


@pk.kernel
def short_circuit(a: i64[:], counter: i64[:], out: i64[:, :]):
    i = pk.tid()
    v = a[i]
    r = 0
    if v > 0 and bump(counter) >= 0:
        r += 1
    if v > 5 or bump(counter) >= 0:
        r += 10
    out[i, 0] = r
    out[i, 1] = v and 7          # Python: v if v is falsy else 7
    out[i, 2] = v or -1          # Python: v if v is truthy else -1
    out[i, 3] = not v
    out[i, 4] = 100 if v > 2 else -100
    out[i, 5] = (v > 0) and (v < 8) or (v == -3)


@pk.kernel
def loops(n: i64[:], out: i64[:, :]):
    i = pk.tid()
    m = n[i]
    s = 0
    for k in range(m):
        if k == 3:
            continue
        if k > 12:
            break
        s += k
    out[i, 0] = s
    t = 0
    for k in range(m, 0, -2):
        t = t * 3 + k
    out[i, 1] = t
    u = 0
    for k in range(-2, m, 3):
        for j in range(k):
            u += j
    out[i, 2] = u
    w = 0
    steps = 0
    while w < m:
        steps += 1
        w += 3
        if steps % 2 == 0:
            continue
        w -= 1
    out[i, 3] = steps
    last = -1
    for k in range(m):
        last = k
    out[i, 4] = last


@pk.kernel
def fibonacci(out: i64[:]):
    i = pk.tid()
    a, b = 0, 1
    for _ in range(i):
        a, b = b, a + b
    out[i] = a


@pk.kernel
def swap_pairs(x: f32[:]):
    i = pk.tid()
    j = len(x) - 1 - i
    if i < j:
        x[i], x[j] = x[j], x[i]


@pk.kernel
def grid3d(out: i32[:, :, :]):
    x, y, z = pk.tid()
    out[z, y, x] = x + 10 * y + 100 * z + out.shape[0] * 1000 + out.ndim * 10000


@pk.kernel
def negative_index(x: f64[:], out: f64[:]):
    i = pk.tid()
    out[i] = x[-1 - i] + x[-len(x)]


@pk.kernel
def small_types(a: u8[:], b: i32[:], c: u32[:], flags: boolean[:]):
    i = pk.tid()
    a[i] = a[i] + 200
    b[i] = b[i] * 1000003 + 2147483000
    c[i] = c[i] * 3 + 4294967000
    flags[i] = not flags[i] or a[i] > 100


@pk.kernel
def casts(x: f64[:], out: f64[:, :]):
    i = pk.tid()
    v = x[i]
    out[i, 0] = pk.f32(v)
    out[i, 1] = pk.i32(v * 1e8)
    out[i, 2] = pk.u8(v * 10)
    out[i, 3] = int(v)
    out[i, 4] = float(int(v) // 2)
    out[i, 5] = bool(v)
    out[i, 6] = pk.i64(v) + pk.boolean(v)


@pk.func
def clamp(v, lo, hi):
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


@pk.func
def scale_into(dst: f64[:], k: i64, factor: f64):
    dst[k] = dst[k] * factor


@pk.kernel
def funcs(x: f64[:], n: i64[:], out: f64[:]):
    i = pk.tid()
    out[i] = clamp(x[i], -1.0, 1.0) + clamp(n[i], 0, 5)
    scale_into(out, i, 2.0)


@pk.kernel
def early_return(x: i64[:]):
    i = pk.tid()
    if i % 3 == 0:
        return
    x[i] = x[i] + 1


@pk.kernel
def augmented(x: f64[:], k: i64[:]):
    i = pk.tid()
    x[i] += 1.5
    x[i] *= 2
    x[i] -= k[i]
    x[i] /= 4
    x[i] **= 2
    x[i] //= 0.3
    x[i] %= 7
    m = k[i]
    m <<= 2
    m |= 1
    m ^= 6
    m //= 3
    k[i] = m


@pk.kernel
def index_error(x: f32[:]):
    i = pk.tid()
    x[i + 1] = 1.0


@pk.kernel
def zero_division(a: i64[:], b: i64[:]):
    i = pk.tid()
    a[i] = a[i] // b[i]


@pk.kernel
def tiny_read(data: f64[:], out: f64[:]):
    out[0] = data[0] * 2.0


# All valid kernels of this module, for the NVRTC and equivalence tests.
ALL = {name: obj for name, obj in dict(globals()).items() if isinstance(obj, pk.Kernel)}
