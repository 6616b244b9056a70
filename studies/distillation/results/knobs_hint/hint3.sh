#!/usr/bin/env bash
# The hint row at weight 0.1 (spatial_t2_lr3_hint01), then analyze all three rows.
set -euo pipefail
cd /work/runs/snap  # a copy of the repository (git ls-files) at dabc378, plus the hint01 row
export PYTHONPATH=.
RUNS=/work/runs/distill_study
export JAX_COMPILATION_CACHE_DIR=$RUNS/jaxcache
date
python -m dsiam_jax.main --config=configs/distill_study.py:knobs \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/knobs \
    --config.ablation.rows="('spatial_t2_lr3', 'spatial_t2_lr3_hint', 'spatial_t2_lr3_hint01')"
date
python -m studies.distillation.analyze --sweep=$RUNS/knobs --out=$RUNS/knobs_analysis \
    --pairs=spatial_t2_lr3_hint:spatial_t2_lr3,spatial_t2_lr3_hint01:spatial_t2_lr3
date
