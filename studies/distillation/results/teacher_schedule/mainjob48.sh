#!/usr/bin/env bash
# README main job with 48 evaluation scenes, timed on a quiet machine (no compilation cache).
cd /work/snap_main
start=$(date +%s)
python -m dsiam_jax.main --config=configs/default.py --workdir=/work/runs/main48 --config.pipeline.eval_sequences=48
echo "elapsed $(( $(date +%s) - start )) s"
