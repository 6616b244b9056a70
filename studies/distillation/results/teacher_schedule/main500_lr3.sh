#!/usr/bin/env bash
# README main job, fresh workdir, no compilation cache: teacher 500 steps with its rate
# decaying only to 1e-3 (train.lr_end; the students' is pipeline.laptop.student_lr_end).
cd /work/snap_main
unset JAX_COMPILATION_CACHE_DIR
while pgrep -f "workdir=/work/runs/main500 " >/dev/null; do sleep 10; done
start=$(date +%s)
python -m dsiam_jax.main --config=configs/default.py --workdir=/work/runs/main500_lr3 \
    --config.pipeline.laptop.teacher_steps=500 --config.train.lr_end=1e-3
echo "elapsed $(( $(date +%s) - start )) s"
