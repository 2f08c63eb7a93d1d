"""Stage 4: the entry points of a kernel around its translated body. CUDA: a grid-stride
``__global__`` function; CPU: ``ph_c_<name>(args, begin, end, dims, err)`` running a range of
flat indices with the fastest loop the kernel allows (direct.py, lanes.py), then the checked
scalar loop for whatever they leave, plus ``ph_lanes_<name>()`` (the batch size the host cuts
chunks to) and ``ph_loop_<name>()`` (which loop runs)."""
from .direct import LOOPLESS_NOTE, direct_kernel, direct_loop
from .lanes import LaneCode, cpu_batch_loop, lane_kernel
from .typing_rules import ctype, mangle

_DECOMPOSE = {
    1: "const ph_i64 ph_x = ph_f, ph_y = 0, ph_z = 0;",
    2: "const ph_i64 ph_x = ph_f % ph_n0, ph_y = ph_f / ph_n0, ph_z = 0;",
}
_DECOMPOSE_3D = ("const ph_i64 ph_x = ph_f % ph_n0, ph_r = ph_f / ph_n0, ph_y = ph_r % ph_n1, "
                 "ph_z = ph_r / ph_n1;")


def cuda_entry(base, body_name, params, dims):
    decl = ", ".join(f"{ctype(t)} {mangle(n)}" for n, t in params)
    call = ", ".join(mangle(n) for n, _ in params)
    sep = ", " if call else ""
    kparams = decl + sep + "ph_i64 ph_n0, ph_i64 ph_n1, ph_i64 ph_n2, int* ph_err"
    return f"""#if PH_CUDA
extern "C" __global__ void ph_k_{base}({kparams}) {{
  const ph_i64 ph_total = ph_n0 * ph_n1 * ph_n2;
  for (ph_i64 ph_f = (ph_i64)blockIdx.x * blockDim.x + threadIdx.x; ph_f < ph_total;
       ph_f += (ph_i64)gridDim.x * blockDim.x) {{
    {_DECOMPOSE.get(dims, _DECOMPOSE_3D)}
    {body_name}(ph_err, ph_x, ph_y, ph_z{sep}{call});
  }}
}}
#endif"""


def cpu_entry(base, body_name, params, scalar, result):
    """(C++ text, lanes used) of the CPU build: the loop bodies and ph_c_<base>."""
    call = ", ".join(mangle(n) for n, _ in params)
    sep = ", " if call else ""
    dims = result.dims
    direct = direct_kernel(scalar, result, base)
    lane = lane_kernel(scalar, result, base) if direct.code is None else \
        LaneCode(None, LOOPLESS_NOTE)
    parts = ["#if !PH_CUDA", direct.note]
    if direct.code is not None:
        parts.append(direct.code)
    parts.append(lane.note)
    if lane.code is not None:
        parts.append(lane.code)
    parts.append(f"""extern "C" void ph_c_{base}(void** ph_args, ph_i64 ph_begin, ph_i64 ph_end,
                            const ph_i64* ph_dims, int* ph_err) {{
  const ph_i64 ph_n0 = ph_dims[0], ph_n1 = ph_dims[1];
  (void)ph_n0; (void)ph_n1;""")
    for k, (n, t) in enumerate(params):
        parts.append(f"  {ctype(t)} {mangle(n)} = *({ctype(t)}*)ph_args[{k}];")
    fast = direct_loop(direct, base, call, dims) if direct.code is not None else \
        cpu_batch_loop(lane, base, call, dims)
    lanes_on = "PH_LANES_ON ? PH_L : 1" if lane.code is not None else "1"
    loop = ('PH_LANES_WANTED ? "direct" : "scalar"' if direct.code is not None else
            'PH_LANES_ON ? "lanes" : "scalar"' if lane.code is not None else '"scalar"')
    parts.append(f"""  ph_i64 ph_f = ph_begin;
{fast}  for (; ph_f < ph_end; ++ph_f) {{
    {_DECOMPOSE.get(dims, _DECOMPOSE_3D)}
    {body_name}(ph_err, ph_x, ph_y, ph_z{sep}{call});
  }}
}}
extern "C" int ph_lanes_{base}(void) {{ return {lanes_on}; }}
extern "C" const char* ph_loop_{base}(void) {{ return {loop}; }}
#endif
""")
    return "\n".join(parts), lane.code is not None
