#!/usr/bin/env bash
# README main job candidate default: teacher 400 steps with its rate decaying to 1e-3.
# Fresh workdir, no compilation cache, alone on the machine (after the zoo rebuild).
cd /work/snap_main
unset JAX_COMPILATION_CACHE_DIR
while pgrep -f "zoo_queue.sh" >/dev/null; do sleep 10; done
start=$(date +%s)
python -m dsiam_jax.main --config=configs/default.py --workdir=/work/runs/main400_lr3 \
    --config.pipeline.laptop.teacher_steps=400 --config.train.lr_end=1e-3
echo "elapsed $(( $(date +%s) - start )) s"
