#!/usr/bin/env bash
# After hint.sh: the spatial_t2_lr3 row again (pairs with the hint row; a check that the
# committed results reproduce on another machine), the teacher on the same scenes, analyze.
set -euo pipefail
while pgrep -f "bash hint.sh" > /dev/null; do sleep 10; done
cd /work/runs/snap  # a copy of the repository (git ls-files) at dabc378, plus the hint01 row
export PYTHONPATH=.
RUNS=/work/runs/distill_study
export JAX_COMPILATION_CACHE_DIR=$RUNS/jaxcache
date
python -m dsiam_jax.main --config=configs/distill_study.py:knobs \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/knobs \
    --config.ablation.rows="('spatial_t2_lr3', 'spatial_t2_lr3_hint')"
date
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/knobs/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/knobs/teacher_eval
date
python -m studies.distillation.analyze --sweep=$RUNS/knobs --out=$RUNS/knobs_analysis \
    --pairs=spatial_t2_lr3_hint:spatial_t2_lr3
date
