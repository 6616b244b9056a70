#!/usr/bin/env bash
# Section 37: the loss weights of the RPN teacher at 1,000 steps. The ranking term
# (weight 1, chosen in section 6 for students trained from random weights) is the
# largest term of F1k's loss (0.3-1.0 against 0.12-0.21 for the classification and
# 0.16-0.32 for the regression; the gradient is clipped on most steps), while the
# matcher start already gives the classifier SiamFC's response. On section 34's F1k
# (configs/siamrpn_matcher.py: conv1-3 fixed, 1,000 steps, seed 1, so the same pairs
# in the same order):
#   R05: ranking weight 0.5;  R0: no ranking term;  L2: regression weight 2.4 (pysot's
#   1.2 doubled).
# The three train side by side; each is evaluated on the 256 test sequences with the
# default tracker, paired with the F1k rerun and the zoo's SiamFC teacher of section
# 35 (same machine, $W/ema). Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
L=$W/loss_weights
E=$W/ema
mkdir -p $L
train_f1k $L R05 --config.loss.rpn_rank_weight=0.5 &
train_f1k $L R0 --config.loss.rpn_rank_weight=0.0 &
train_f1k $L L2 --config.loss.rpn_loc_weight=2.4 &
wait
for R in R05 R0 L2; do
  eval_test256 $L/${R}_test256 $L/$R/checkpoints/1000 > $L/eval_$R.log 2>&1 &
done
wait
python -m studies.siamrpn.compare \
    --runs="fc:0=$E/siamfc_teacher_test256,F1k:0=$E/F3_1000_ema_test256#siamrpn_teacher_raw,R05:0=$L/R05_test256,R0:0=$L/R0_test256,L2:0=$L/L2_test256" \
    --pairs=R05-F1k,R0-F1k,L2-F1k,R05-fc,R0-fc,L2-fc,F1k-fc \
    --out=studies/siamrpn/results/loss_weights/compare.json
echo done
