#!/usr/bin/env bash
# README main job, fresh workdir, no compilation cache, teacher 500 steps (candidate default).
cd /work/snap_main
unset JAX_COMPILATION_CACHE_DIR
start=$(date +%s)
python -m dsiam_jax.main --config=configs/default.py --workdir=/work/runs/main500 --config.pipeline.laptop.teacher_steps=500
echo "elapsed $(( $(date +%s) - start )) s"
