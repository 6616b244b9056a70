#!/usr/bin/env bash
# Section 38: what the RPN's size regression is worth in tracking. F1k on seed 2 (section
# 37's F1k_s2; seed 1's run was stopped for time) on the first 64 test sequences with the default tracker
# (center=upsampled, aspect_rate=0): as trained, with the true box's sizes at the anchors
# training regresses (hybrid.py's `sizes`), and with no size update at all (lr=0).
# Writes hybrid.json here (run from the repository root; this session ran it with
# --out=$W/size/hybrid.json and copied the file).
source studies/siamrpn/results/common.sh
O=studies/siamrpn/results/reg_rate/hybrid.json
for m in $W/loss_weights/F1k_s2/checkpoints/1000; do
  python -m studies.siamrpn.hybrid --models=$m --center=upsampled --settings=aspect_rate=0.0 \
      --variants=trained,sizes --out=$O
  python -m studies.siamrpn.hybrid --models=$m --center=upsampled \
      --settings=aspect_rate=0.0,lr=0.0 --variants=trained --out=$O
done
echo done
