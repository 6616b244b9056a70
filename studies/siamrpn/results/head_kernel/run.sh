#!/usr/bin/env bash
# Section 40: a read-out that sees the neighbourhood after the correlation. K3: section
# 38's recipe (configs/siamrpn_matcher.py: conv1-3 fixed, the regression tower at 10x,
# 1,000 steps) with a 3x3 conv (zero-padded) in place of the 1x1 after each depth-wise
# correlation (model.rpn_head_kernel=3), on seeds 1 and 2; each evaluated on the 256
# test sequences with the default tracker, paired with RT10 on the same seed
# (results/reg_rate) by compare.sh. Resumable: rerun the same command (ONLY=K3 | K3_s2
# runs one part; KERNEL=5 NAME=K5 runs a 5x5 variant the same way).
source studies/siamrpn/results/common.sh
R=$W/head_kernel
mkdir -p $R
KERNEL=${KERNEL:-3}
NAME=${NAME:-K$KERNEL}
part() {  # name seed
  f1k_part $R $1 $2 --config.train.reg_lr_scale=10 --config.model.rpn_head_kernel=$KERNEL
}
part $NAME 1 &
part ${NAME}_s2 2 &
wait
echo done
