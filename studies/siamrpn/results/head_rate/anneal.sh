#!/usr/bin/env bash
# Section 36, after run.sh and low.sh: D2, F1k's recipe with the rate decaying to 2e-4
# instead of 1e-3 (5e-3 after the warm-up as before): is it the end of the schedule, at
# a low rate, that the RPN gains from? 256 test sequences, paired with F1k and the
# SiamFC teacher of section 35 ($W/ema). Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
H=$W/head_rate
E=$W/ema
train_f1k $H D2 --config.train.lr_end=2e-4
eval_test256 $H/D2_test256 $H/D2/checkpoints/1000 > $H/eval_D2.log 2>&1
python -m studies.siamrpn.compare \
    --runs="fc:0=$E/siamfc_teacher_test256,F1k:0=$E/F3_1000_ema_test256#siamrpn_teacher_raw,H2:0=$H/H2_test256,C5:0=$H/C5_test256,H05:0=$H/H05_test256,D2:0=$H/D2_test256" \
    --pairs=H2-F1k,C5-F1k,H05-F1k,D2-F1k,H2-fc,C5-fc,H05-fc,D2-fc,F1k-fc --out=studies/siamrpn/results/head_rate/compare.json
echo done
