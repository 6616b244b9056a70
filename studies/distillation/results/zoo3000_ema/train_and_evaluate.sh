#!/usr/bin/env bash
# Zoo-size SiamFC students (24-64-96-96-64, 15.2x) from the zoo teacher: zoo/build.sh's
# dstfc command (3000 steps, rate 1e-2 -> 1e-3) with a moving average of the students'
# variables (train.ema_decay=0.999; every checkpoint kept). The checkpoint holds the
# averages (student_0, student_1) and the raw weights (student_0_raw, student_1_raw) of
# the same run, evaluated with the zoo teacher on section 8's 48 test scenes.
# Run from a snapshot of the repository (/work/snap_ema); resumable.
set -euo pipefail
cd /work/snap_ema
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
RUNS=/work/runs/zoo3000_ema
python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=siamfc_teacher \
    --workdir=$RUNS/dstfc --config.train.num_steps=3000 --config.train.checkpoint_every=250 \
    --config.train.lr_end=1e-3 --config.train.ema_decay=0.999 --config.train.max_to_keep=0
python -m dsiam_jax.main --config=configs/evaluate.py --workdir=$RUNS/evaluate_fc48 \
    --config.checkpoint=siamfc_teacher,$RUNS/dstfc \
    --config.eval.layout=synthetic --config.eval.split=test --config.eval.max_sequences=48 \
    --config.backend=jax
echo done
# Step 1250 (a kept checkpoint), evaluated while the run went on (from /work/main at 03f3e54):
#   python -m dsiam_jax.main --config=configs/evaluate.py --workdir=$RUNS/evaluate_1250 \
#       --config.checkpoint=$RUNS/dstfc/checkpoints/1250 --config.eval.layout=synthetic \
#       --config.eval.split=test --config.eval.max_sequences=48 --config.backend=jax
# Then: mkdir -p evals/3000 evals/1250; cp $RUNS/evaluate_fc48/eval.json evals/3000/;
#       cp $RUNS/evaluate_1250/eval.json evals/1250/; python pair.py
