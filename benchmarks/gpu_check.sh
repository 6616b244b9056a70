#!/usr/bin/env bash
# Issue 16's GPU numbers in one call of the lent device machine (JAX with CUDA, Flax,
# optax and orbax in its image; no TensorFlow, no ml_collections, nothing to install):
#
#   run(command="bash benchmarks/gpu_check.sh", timeout_s=570)
#
# Writes to $OUT (the device tool's folder that comes back): environment.txt, the
# train-step rows at the batch of 8 (both kinds, float32 and bfloat16, with the
# fraction of the GPU's fp32 and tf32 peak) and at batch 64 (each kind), and tracking
# frames/s (`--quick`: without the 90 M-parameter RPN teacher), each with its log.
# Every command has its own time limit (together 540 s; the run of 2026-12-04 took 175 s
# plus 60 s for the RPN at batch 64) so that what finished comes
# back even if a later one runs long. QUICK=1 is a smoke test of the script on CPU.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
PY=${PYTHON:-python3}
if [ "${QUICK:-0}" = 1 ]; then
  STEP_FLAGS="--kinds siamfc --no-bf16 --repeats 1"
  TRACK_FLAGS="--quick --frames 4 --repeats 1 --rounds 1 --batch 2"
else
  STEP_FLAGS=""
  TRACK_FLAGS="--quick"
fi
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
  $PY -c "import jax, flax, optax; print('jax', jax.__version__, 'flax', flax.__version__,
'optax', optax.__version__, jax.devices())"
} 2>&1 | tee "$OUT/environment.txt"
timeout 220 $PY -m benchmarks.train_step $STEP_FLAGS --out "$OUT/train_step_gpu.json" \
  2>&1 | tee "$OUT/train_step.log"
if [ "${QUICK:-0}" != 1 ]; then
  timeout 80 $PY -m benchmarks.train_step --kinds siamfc --batch 64 \
    --out "$OUT/train_step_gpu_b64.json" 2>&1 | tee "$OUT/train_step_b64.log"
  timeout 100 $PY -m benchmarks.train_step --kinds siamrpn --batch 64 \
    --out "$OUT/train_step_gpu_rpn_b64.json" 2>&1 | tee "$OUT/train_step_rpn_b64.log"
fi
timeout 140 $PY -m benchmarks.tracking $TRACK_FLAGS --out "$OUT/tracking_gpu.json" \
  2>&1 | tee "$OUT/tracking.log"
ls -l "$OUT"
