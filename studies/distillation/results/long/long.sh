#!/usr/bin/env bash
# Distillation study step 7 (studies/distillation/run.sh) with RUNS=/work/runs and the
# README main job's teacher (main48), after the main-job timings and the zoo rebuild.
set -euo pipefail
while [ -e /work/runs/HOLD_LONG ] || pgrep -f "zoo_queue.sh|main500_lr3.sh|main_final.sh" >/dev/null; do sleep 20; done
cd /work/snap_study
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
T=/work/runs/main48/teacher
python -m dsiam_jax.main --config=configs/distill_study.py:long \
    --config.ablation.teacher_checkpoint=$T --workdir=/work/runs/long
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$T \
    --config.eval.layout=got10k --config.eval.root=/work/runs/long/data/synthetic_got10k/test \
    --config.eval.split= --workdir=/work/runs/long/teacher_eval
python -m studies.distillation.analyze --sweep=/work/runs/long --out=/work/runs/long_results \
    --pairs=spatial_t2_lr3:scratch_lr3
