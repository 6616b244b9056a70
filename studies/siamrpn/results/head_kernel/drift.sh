#!/usr/bin/env bash
# Section 40: how the trackers' box sizes move over the 256 test sequences (size_drift.py):
# the SiamFC teacher's recipe on two seeds, F1k seed 2, RT10 and K3 on seeds 1 and 2.
# Writes size_drift.json here.
source studies/siamrpn/results/common.sh
PYTHONPATH=. python -m studies.siamrpn.size_drift --split=test \
    --out=studies/siamrpn/results/head_kernel/size_drift.json \
    --evals="fc_s0=$W/ema/siamfc_teacher_test256,fc_s1=$W/loss_weights/fc600_s1_test256,F1k_s2=$W/loss_weights/F1k_s2_test256,RT10_s1=$W/reg_rate/RT10_test256,RT10_s2=$W/reg_rate/RT10_s2_test256,K3_s1=$W/head_kernel/K3_test256,K3_s2=$W/head_kernel/K3_s2_test256"
