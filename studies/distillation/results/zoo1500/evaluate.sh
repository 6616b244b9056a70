#!/usr/bin/env bash
# After /work/runs/zoo1500.sh's training (its wrapper was stopped before its own teacher
# evaluation): the students alone on the same 48 scenes; the zoo teacher's JAX
# evaluation on them is /work/runs/zoo_lr3/evaluate_fc48 (section 8).
set -euo pipefail

export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
python -m dsiam_jax.main --config=configs/evaluate.py --workdir=/work/runs/zoo1500/evaluate_fc48 \
    --config.checkpoint=/work/runs/zoo1500/dstfc \
    --config.eval.layout=synthetic --config.eval.split=test --config.eval.max_sequences=48 \
    --config.backend=jax
echo done
