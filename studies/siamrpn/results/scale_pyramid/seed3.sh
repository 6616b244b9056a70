#!/usr/bin/env bash
# Section 42: a third seed of section 38's RT10 (F1k's recipe with the regression tower at
# ten times the rate, 1,000 steps: about the SiamFC teacher's training time), tracked with
# one crop and with the scale pyramid on the 256 test sequences, to pair with seeds 1
# and 2 (results/reg_rate, section 41) and the SiamFC teacher. Resumable: rerun it.
source studies/siamrpn/results/common.sh
R=$W/reg_rate
mkdir -p $R $W/scale_pyramid
f1k_part $R RT10_s3 3 --config.train.reg_lr_scale=10  # -> $R/RT10_s3_test256
eval_test256 $W/scale_pyramid/RT10_s3_P3_test256 $R/RT10_s3/checkpoints/1000 \
    --config.tracker.siamrpn.num_scales=3 > $W/scale_pyramid/eval_RT10_s3_P3.log 2>&1
echo done
