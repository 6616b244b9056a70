#!/usr/bin/env bash
# Section 36, after run.sh (H2, twice the head's rate, tracked 0.014 below F1k): the
# other direction, H05: the head at half the rate (2.5e-3 -> 5e-4), conv4-5 kept at
# their rate (0.2x), on F1k's recipe otherwise; 256 test sequences, paired with F1k
# and the SiamFC teacher of section 35 ($W/ema). Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
H=$W/head_rate
E=$W/ema
train_f1k $H H05 --config.train.lr_start=2.5e-3 --config.train.lr_end=5e-4 \
    --config.train.backbone_lr_scale=0.2
eval_test256 $H/H05_test256 $H/H05/checkpoints/1000 > $H/eval_H05.log 2>&1
python -m studies.siamrpn.compare \
    --runs="fc:0=$E/siamfc_teacher_test256,F1k:0=$E/F3_1000_ema_test256#siamrpn_teacher_raw,H2:0=$H/H2_test256,C5:0=$H/C5_test256,H05:0=$H/H05_test256" \
    --pairs=H2-F1k,C5-F1k,H05-F1k,H2-fc,C5-fc,H05-fc,F1k-fc --out=studies/siamrpn/results/head_rate/compare.json
echo done
