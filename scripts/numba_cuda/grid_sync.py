"""Cooperative groups: a sequence of dependent row updates, one grid-wide barrier
(``cuda.cg.this_grid().sync()``) per row, so that each row reads the previous one as the whole
grid wrote it; the kernel has an explicit signature given as a tuple of types, and the launch
is sized by ``overloads[sig].max_cooperative_grid_blocks``.

    pyhost run scripts/numba_cuda/grid_sync.py
"""
import numpy as np

from pyhost import cuda
from pyhost.cuda import int32

SIG = (int32[:, ::1],)


@cuda.jit(SIG)
def mirrored_rows(m):
    """Row r, column c: the previous row's mirror element plus r's parity plus one."""
    col = cuda.grid(1)
    g = cuda.cg.this_grid()
    rows, cols = m.shape
    for row in range(1, rows):
        if col < cols:
            m[row, col] = m[row - 1, cols - 1 - col] + 1 + row % 2
        g.sync()


@cuda.jit("void(float64[:], float64[:], int64)")
def smooth_steps(x, tmp, steps):
    """Jacobi smoothing steps over the whole array, two grid barriers per step."""
    i = cuda.grid(1)
    n = x.shape[0]
    grid = cuda.cg.this_grid()
    for _ in range(steps):
        if 0 < i and i < n - 1:
            tmp[i] = (x[i - 1] + x[i] + x[i + 1]) / 3.0
        elif i < n:
            tmp[i] = x[i]
        grid.sync()
        if i < n:
            x[i] = tmp[i]
        grid.sync()


def run(rows=512, cols=1024, blockdim=32):
    m = np.zeros((rows, cols), dtype=np.int32)
    m[0] = np.arange(cols)
    blocks = cols // blockdim
    assert blocks <= mirrored_rows.overloads[SIG].max_cooperative_grid_blocks(blockdim)
    mirrored_rows[blocks, blockdim](m)
    x = np.sin(np.linspace(0, 20, 4000))
    ref = x.copy()
    tmp = np.zeros_like(x)
    smooth_steps[(x.size + 127) // 128, 128](x, tmp, 50)
    return m, x, ref


def numpy_rows(rows, cols):
    m = np.zeros((rows, cols), dtype=np.int32)
    m[0] = np.arange(cols)
    for r in range(1, rows):
        m[r] = m[r - 1, ::-1] + 1 + r % 2
    return m


def numpy_smooth(x, steps):
    x = x.copy()
    for _ in range(steps):
        x[1:-1] = (x[:-2] + x[1:-1] + x[2:]) / 3.0
    return x


if __name__ == "__main__":
    m, x, ref = run()
    print("rows equal numpy:", int(np.array_equal(m, numpy_rows(*m.shape))), "last row sum",
          m[-1].sum())
    print("smoothed max error", float(np.abs(x - numpy_smooth(ref, 50)).max()))
