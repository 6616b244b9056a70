#!/usr/bin/env bash
# Zoo-size SiamFC students (24-64-96-96-64, 15.2x) from the zoo teacher, configs/dstfc.py
# on the 1e-3 schedule as zoo/build.sh, 3000 steps (section 8 had 500 and 1500).
# Steps 0-1499 read the teacher cache zoo1500.sh wrote (same key: teacher, data, seed),
# copied into this workdir first: cp -n zoo1500/dstfc/teacher_cache/3a13633d2bce5e11/* \
#   zoo3000/dstfc/teacher_cache/3a13633d2bce5e11/
# Run from a snapshot of the repository at 5a3c1b9 (/work/snap_z3); resumable.
set -euo pipefail
cd /work/snap_z3
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=siamfc_teacher \
    --workdir=/work/runs/zoo3000/dstfc --config.train.num_steps=3000 --config.train.checkpoint_every=250 \
    --config.train.lr_end=1e-3
python -m dsiam_jax.main --config=configs/evaluate.py --workdir=/work/runs/zoo3000/evaluate_fc48 \
    --config.checkpoint=/work/runs/zoo3000/dstfc \
    --config.eval.layout=synthetic --config.eval.split=test --config.eval.max_sequences=48 \
    --config.backend=jax
echo done
