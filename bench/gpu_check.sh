#!/usr/bin/env bash
# The GPU check of @pyhost.kernel in one command, for a machine with an NVIDIA GPU:
#   1. builds the kernel engine (host/kernels) as an extension of the Python given (default
#      python3.12), with bench/gpu_check/CMakeLists.txt: CMake, a C++20 compiler, that Python's
#      headers and the CUDA toolkit's nvrtc.h are all it needs: no system packages, no network
#      (libcuda and NVRTC are loaded at run time from the driver and the toolkit)
#   2. runs bench/gpu_check.py: the kernels on the GPU against the python reference (and numpy
#      when importable), the example programs (scripts/kernels, and scripts/numba_cuda on
#      `from pyhost import cuda` against their own CPU runs), SAXPY bandwidth against a device-to-device copy, the host-side launch
#      overhead of an empty kernel, cold NVRTC compile and warm cache load, and numba-cuda / CuPy
#      on the same kernels when importable; every part it cannot run is listed as skipped, why
#   3. writes OUT/gpu_check.json and OUT/gpu_check.md (OUT: $1, else ./gpu-check-out)
# Everything runs under a 280 s budget (the build included: about 30 s on 16 cores).
#
#   bench/gpu_check.sh [OUT]            PYTHON=/path/to/python3.12 to choose the interpreter
#   bench/gpu_check.sh --fake [OUT]     no GPU: tests/kernel/fake_libcuda.c stands in for the
#                                       driver, to see the driver path and the report
set -euo pipefail
START=$(date +%s)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FAKE=0
if [[ "${1:-}" == "--fake" ]]; then FAKE=1; shift; fi
OUT=$(mkdir -p "${1:-gpu-check-out}" && cd "${1:-gpu-check-out}" && pwd)
PY=${PYTHON:-$(command -v python3.12 || command -v python3)}
BUILD="$OUT/build"
echo "gpu_check: python $("$PY" -c 'import sys; print(sys.version.split()[0])') ($PY), out $OUT"

if ! cmake -S "$REPO/bench/gpu_check" -B "$BUILD" -DPYHOST_CHECK_PYTHON="$PY" \
      >"$OUT/build.log" 2>&1 ||
   ! cmake --build "$BUILD" -j"$(nproc)" >>"$OUT/build.log" 2>&1; then
  echo "gpu_check: the engine did not build; the end of $OUT/build.log:" >&2
  tail -20 "$OUT/build.log" >&2
  exit 1
fi
grep -h "gpu_check:" "$OUT/build.log" || true

ENV=(PYTHONPATH="$REPO/runtime:$BUILD/python" PYTHONDONTWRITEBYTECODE=1)
if [[ $FAKE == 1 ]]; then
  cc -shared -fPIC -O1 -o "$BUILD/fake_libcuda.so" "$REPO/tests/kernel/fake_libcuda.c"
  ENV+=(PYHOST_LIBCUDA="$BUILD/fake_libcuda.so" FAKE_CUDA_MODE=1)
  echo "gpu_check: --fake: the stand-in driver (one 'sm_90' device that runs nothing)"
fi
FLAGS=()
if [[ $FAKE == 1 ]]; then FLAGS+=(--fake); fi
LEFT=$((280 - ($(date +%s) - START)))
env "${ENV[@]}" timeout "$LEFT" "$PY" "$REPO/bench/gpu_check.py" --out "$OUT" \
  --budget "$((LEFT - 15))" "${FLAGS[@]}"
