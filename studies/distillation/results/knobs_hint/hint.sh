#!/usr/bin/env bash
# Section 7's hint row (run.sh steps 1 and 6, the hint row alone), 2026-12-02 g.
set -euo pipefail
cd /work/runs/snap  # a copy of the repository (git ls-files) at dabc378, plus the hint01 row
export PYTHONPATH=.
RUNS=/work/runs/distill_study
export JAX_COMPILATION_CACHE_DIR=$RUNS/jaxcache
date
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/pipeline \
    --config.pipeline.laptop.teacher_steps=600 --config.pipeline.laptop.teacher_lr_end=1e-5 \
    --config.pipeline.laptop.student_lr_end=1e-5 --config.pipeline.eval_sequences=0
date
python -m dsiam_jax.main --config=configs/distill_study.py:knobs \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/knobs \
    --config.ablation.rows="('spatial_t2_lr3_hint',)"
date
