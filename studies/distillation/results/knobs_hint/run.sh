#!/usr/bin/env bash
# Section 7's hint rows, 2026-12-02 g (from the repository root of a copy of the
# repository at dabc378 plus the spatial_t2_lr3_hint01 row, i.e. before the conv1
# lowering of 68f9947). They ran as three background scripts that gave the knobs command
# row subsets in this order: spatial_t2_lr3_hint; spatial_t2_lr3 (+ the finished hint
# row); all three. The sweep skips finished runs, so this one command is the same.
set -euo pipefail
export PYTHONPATH=.
RUNS=${RUNS:-/work/runs/distill_study}
export JAX_COMPILATION_CACHE_DIR=$RUNS/jaxcache
# run.sh step 1: the pipeline's teacher (600 steps, 1e-5)
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/pipeline \
    --config.pipeline.laptop.teacher_steps=600 --config.pipeline.laptop.teacher_lr_end=1e-5 \
    --config.pipeline.laptop.student_lr_end=1e-5 --config.pipeline.eval_sequences=0
# run.sh step 6 with the rows of this machine's comparison
python -m dsiam_jax.main --config=configs/distill_study.py:knobs \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/knobs \
    --config.ablation.rows="('spatial_t2_lr3', 'spatial_t2_lr3_hint', 'spatial_t2_lr3_hint01')"
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/knobs/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/knobs/teacher_eval
python -m studies.distillation.analyze --sweep=$RUNS/knobs --out=$RUNS/knobs_analysis \
    --pairs=spatial_t2_lr3_hint:spatial_t2_lr3,spatial_t2_lr3_hint01:spatial_t2_lr3
