#!/usr/bin/env bash
# Section 41: the RPN tracker with SiamFC's scale pyramid (tracker.siamrpn.num_scales=3,
# SiamFC's scale_step 1.0375 and scale_penalty 0.9745, not tuned) on section 38's RT10
# (seeds 1 and 2), 256 test sequences, to pair with their one-crop evaluations
# (results/reg_rate/RT10{,_s2}_test256). Resumable: rerun the same command (ONLY=RT10 |
# RT10_s2 runs one).
source studies/siamrpn/results/common.sh
R=$W/scale_pyramid
mkdir -p $R
for run in RT10 RT10_s2; do
  [ -z "${ONLY:-}" ] || [ "$ONLY" = "$run" ] || continue
  eval_test256 $R/${run}_P3_test256 $W/reg_rate/$run/checkpoints/1000 \
    --config.tracker.siamrpn.num_scales=3 > $R/eval_${run}_P3.log 2>&1
done
echo done
