#!/usr/bin/env bash
# Section 38: the regression tower (the reg branch's convs before its output conv) at ten
# times the rate (train.reg_lr_scale=10, the inverse of model.reg_init_scale=0.1, which
# scales the gradient reaching the tower by 0.1 under SGD). F1k's recipe (configs/siamrpn_matcher.py: conv1-3 fixed,
# 1,000 steps) on seeds 1 and 2, each evaluated on the 256 test sequences with the
# default tracker and paired with F1k on the same seed (section 35's F3_1000_ema raw
# weights, section 37's F1k_s2) and the SiamFC teacher.
# Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
R=$W/reg_rate
mkdir -p $R
SEED=1 train_f1k $R RT10 --config.train.reg_lr_scale=10 &
SEED=2 train_f1k $R RT10_s2 --config.train.reg_lr_scale=10
wait
eval_test256 $R/RT10_test256 $R/RT10/checkpoints/1000 > $R/eval_RT10.log 2>&1 &
eval_test256 $R/RT10_s2_test256 $R/RT10_s2/checkpoints/1000 > $R/eval_RT10_s2.log 2>&1
wait
echo done
