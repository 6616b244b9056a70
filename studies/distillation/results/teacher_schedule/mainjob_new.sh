#!/usr/bin/env bash
# README main job at the new defaults (students lr_end 1e-3) with 48 evaluation scenes.
# The data and teacher stages are those of /work/runs/main48 (identical config and
# code path; 760 s there), copied so that only students / scratch / evaluate run here.
cd /work/snap_main
mkdir -p /work/runs/main_new
cp -r /work/runs/main48/data /work/runs/main48/teacher /work/runs/main_new/
rm -f /work/runs/main_new/teacher/workdir.lock
start=$(date +%s)
python -m dsiam_jax.main --config=configs/default.py --workdir=/work/runs/main_new --config.pipeline.eval_sequences=48
echo "elapsed $(( $(date +%s) - start )) s"
