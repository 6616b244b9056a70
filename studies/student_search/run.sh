#!/bin/bash
# Issue 15: a ~1 hour student search on the distillation study's teacher
# (48-128-192-192-128) among students at least 12.5x smaller (the study student is 13.6x;
# ratios up to 0.5 so that about half the random candidates qualify), then ablation (g): searched vs uniform, 3 seeds x 1000 steps,
# 48 synthetic test sequences. Resumable: run again to continue.
# The teacher-output cache is the distillation study's (same teacher, data, seeds 0-2).
cd /work/snap7
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
python -m dsiam_jax.main --config=configs/student_search.py \
  --config.teacher.checkpoint=/work/runs/baseline_pipeline/teacher \
  --config.distill.teacher_cache=/work/runs/distill_study_main/teacher_cache \
  --config.search.iterations=5 --config.search.candidates_per_iteration=6 \
  --config.search.ratios="(0.1,0.2,0.25,0.3,0.4,0.5)" --config.search.min_compression=0.92 \
  --config.search.proxy_steps=300 --config.search.val_sequences=16 \
  --config.search.compare_steps=1000 --config.search.compare_seeds=3 \
  --config.search.compare_sequences=48 \
  --workdir=/work/runs/search15/W5
