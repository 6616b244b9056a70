#!/usr/bin/env bash
# Section 36: does the RPN head learn more per step at a higher rate? Section 34's F1k
# (configs/siamrpn_matcher.py: conv1-3 fixed, 1,000 steps, seed 1, rate 5e-3 after 50
# warm-up steps decaying log-linearly to 1e-3, conv4-5 at a tenth) with
#   H2: the head at twice the rate (1e-2 -> 2e-3), conv4-5 kept at their rate (0.05x);
#   C5: no decay (5e-3 throughout after the warm-up).
# Each is evaluated on the 256 test sequences with the default tracker, paired with the
# F1k rerun and the zoo's SiamFC teacher of section 35 (same machine, $W/ema).
# Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
H=$W/head_rate
E=$W/ema
mkdir -p $H
train_f1k $H H2 --config.train.lr_start=1e-2 --config.train.lr_end=2e-3 --config.train.backbone_lr_scale=0.05
eval_test256 $H/H2_test256 $H/H2/checkpoints/1000 > $H/eval_H2.log 2>&1 &
train_f1k $H C5 --config.train.lr_end=5e-3
wait
eval_test256 $H/C5_test256 $H/C5/checkpoints/1000 > $H/eval_C5.log 2>&1
python -m studies.siamrpn.compare \
    --runs="fc:0=$E/siamfc_teacher_test256,F1k:0=$E/F3_1000_ema_test256#siamrpn_teacher_raw,H2:0=$H/H2_test256,C5:0=$H/C5_test256" \
    --pairs=H2-F1k,C5-F1k,H2-fc,C5-fc,F1k-fc --out=studies/siamrpn/results/head_rate/compare.json
echo done
