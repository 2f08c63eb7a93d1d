"""Kernels of test_kernels_lanes.py: each one exercises what the CPU's vector loops must get right
(direct.py: loop-free kernels; lanes.py: masked batches of indices)."""
from pyhost import _kernels as pk
from pyhost._kernels import boolean, f32, f64, i32, i64


@pk.kernel
def mandel_f64(out: f64[:, :], x0: f64, y0: f64, step: f64, max_iter: i32):
    """Divergent while loop; f64 results (the last |z|^2 and the count)."""
    px, py = pk.tid()
    cr = x0 + px * step
    ci = y0 + py * step
    zr, zi = 0.0, 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 4.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    out[py, px] = zr * zr + zi * zi + n / 1000.0


@pk.kernel
def branches(x: f64[:], out: f64[:]):
    """if/elif/else with different math per lane, a conditional expression and and/or."""
    i = pk.tid()
    v = x[i]
    if v < -1.0:
        r = v * v - 3.0 / v
    elif v < 0.25:
        r = (v // 0.125) + (v % 0.375)
    elif v > 2.0 and v < 3.5 or v == 4.0:
        r = v ** 0.5 if v > 2.5 else -v
    else:
        r = v / 7.0 + 1e-3
    out[i] = r


@pk.kernel
def loops(limit: i32, x: f64[:], out: f64[:]):
    """for with continue and break, a while with break, trip counts differing by lane."""
    i = pk.tid()
    acc = 0.0
    for k in range(i % 13 + limit):
        if k % 3 == 1:
            continue
        acc = acc * 0.5 + x[i] * k
        if acc > 40.0:
            break
    j = 0
    while True:
        j += 1
        acc -= 0.75
        if acc < 0.0 or j > i % 7:
            break
    out[i] = acc + j


@pk.kernel
def early_return(x: f64[:], out: f64[:]):
    """Lanes that return early must not run (or store) the rest."""
    i = pk.tid()
    if x[i] < 0.0:
        out[i] = -1.0
        return
    s = 0.0
    for k in range(4):
        if s > x[i]:
            out[i] = s
            return
        s += 1.5 * k
    out[i] = s + x[i]


@pk.kernel
def stencil(a: f64[:, :], out: f64[:, :]):
    """A guarded 5-point stencil: direct in the interior, checked at the borders."""
    x, y = pk.tid()
    h, w = a.shape
    if 0 < x and x < w - 1 and 0 < y and y < h - 1:
        out[y, x] = 0.25 * (a[y - 1, x] + a[y + 1, x] + a[y, x - 1] + a[y, x + 1])
    else:
        out[y, x] = a[y, x]


@pk.kernel
def wrap_stencil(a: f64[:, :], out: f64[:, :]):
    """Unguarded: a[y - 1, x] at y = 0 is the last row (Python's negative index)."""
    x, y = pk.tid()
    out[y, x] = a[y - 1, x] * 2.0 + a[y, x - 1]


@pk.kernel
def shifted(x: f32[:], out: f32[:]):
    """out[i] = x[i + 1]: IndexError at the last index (the direct loop's checked tail)."""
    i = pk.tid()
    out[i] = x[i + 1] * 0.5 + x[i]


@pk.kernel
def lane_index_error(x: f64[:], out: f64[:], bad: i64):
    """A loop kernel where one index reads out of range."""
    i = pk.tid()
    s = 0.0
    for k in range(3):
        if i == bad:
            s += x[i + 1000000]
        s += x[i] * k
    out[i] = s


@pk.kernel
def mc_hits(hits: i64[:], seed: i64, samples: i32):
    """pyhost.random in a loop (lanes), integer results."""
    t = pk.tid()
    inside = 0
    for k in range(samples):
        c = 2 * (t * samples + k)
        x = pk.random(seed, c)
        y = pk.random(seed, c + 1)
        if x * x + y * y <= 1.0:
            inside += 1
    hits[t] = inside


@pk.kernel
def uniform_loops(n: i32, x: f64[:], out: f64[:]):
    """A loop every lane runs alike (one scalar counter, no masks), the same range inside a
    divergent if (masked), and a per-lane trip count."""
    i = pk.tid()
    acc = 0.0
    for k in range(n):
        acc += x[i] * k
    if x[i] > 0.0:
        for k in range(3, n, 2):
            acc -= k * 0.5
    for k in range(i % 5):
        acc += 1.0
    out[i] = acc


@pk.kernel
def lane_seeds(out: f64[:], base: i64):
    """pyhost.random with a seed that differs by lane (the general Philox path)."""
    i = pk.tid()
    s = 0.0
    for k in range(3):
        s += pk.random(base + i * 7 + k, k * 1000 + i)
    out[i] = s


@pk.kernel
def reads_neighbour_written(y: f64[:]):
    """Reads the element the previous index writes: neither vector loop may take it."""
    i = pk.tid()
    if i > 0:
        y[i] = y[i - 1] * 0.5 + y[i]


@pk.func
def halvings(v: f64, limit: i32) -> i32:
    """A loop with a return inside it and another after it."""
    k = 0
    while v > 1.0:
        if k >= limit:
            return -1
        v = v * 0.5
        k += 1
    return k


@pk.func
def weight(a: f64[:], i: i64, s: f64) -> f64:
    """Reads an array; an early return; a loop."""
    if s < 0.0:
        return a[i] * 2.0
    acc = 0.0
    for j in range(3):
        acc += a[i] * j + s
    return acc


@pk.func
def is_big(v: f64) -> boolean:
    return v > 3.0


@pk.func
def nested(v: f64) -> f64:
    return halvings(v, 6) * 0.25 + v


@pk.kernel
def with_funcs(x: f64[:], out: f64[:]):
    """Funcs with loops and returns run as lanes under the caller's mask."""
    i = pk.tid()
    n = halvings(x[i] * 10.0, 4)
    w = weight(x, i, x[i] - 1.0)
    if is_big(w):
        out[i] = w + n
    else:
        out[i] = nested(w) - n


@pk.kernel
def guarded_band(a: f64[:, :], out: f64[:, :], lo: i32, hi: i64, row: i64):
    """Every form the guard split reads: a chained comparison, the index on either side with an
    offset, <=, >=, ==-free bounds from parameters of two widths and a row-wide check."""
    x, y = pk.tid()
    h, w = a.shape
    last = w - 1
    if lo <= x + 1 < hi + 2 and 2 <= x and x - 1 < last and y != row and 0 < y < h - 1:
        out[y, x] = a[y, x - 1] * 0.5 + a[y - 1, x] * 0.25 + a[y + 1, x]
    else:
        out[y, x] = -a[y, x]


@pk.kernel
def guarded_column(a: f64[:], out: f64[:], k: i64):
    """1-D, one index only: x == k, from the right-hand side."""
    i = pk.tid()
    if k == i:
        out[i] = a[i] * 3.0
    else:
        out[i] = a[i] + 1.0


@pk.kernel
def guarded_or(a: f64[:], out: f64[:], n: i64):
    """`or` is not a conjunction: no split, the direct body tests every index."""
    i = pk.tid()
    if i < 2 or i > n:
        out[i] = a[i]
    else:
        out[i] = a[i] * 2.0


@pk.kernel
def guarded_float(a: f64[:], out: f64[:], edge: f64):
    """A float bound: no split (the interval would need float rounding)."""
    i = pk.tid()
    if i < edge:
        out[i] = a[i] * 2.0
    else:
        out[i] = a[i]
