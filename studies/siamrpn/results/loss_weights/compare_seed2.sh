#!/usr/bin/env bash
# Section 37: F1k's recipe on seed 2 (seed2.sh F1k_s2) against the zoo's SiamFC teacher,
# alone and pooled with section 35's seed-1 rerun (the SiamFC teacher is one model: its
# evaluation stands for both seeds). Writes compare_seed2.json / .md here.
source studies/siamrpn/results/common.sh
L=$W/loss_weights
E=$W/ema
FC=$E/siamfc_teacher_test256
python -m studies.siamrpn.compare \
    --runs="fc:1=$FC,fc:2=$FC,F1k:1=$E/F3_1000_ema_test256#siamrpn_teacher_raw,F1k:2=$L/F1k_s2_test256,s1:1=$E/F3_1000_ema_test256#siamrpn_teacher_raw,s2:2=$L/F1k_s2_test256,fcs1:1=$FC,fcs2:2=$FC" \
    --pairs=s1-fcs1,s2-fcs2,F1k-fc \
    --out=studies/siamrpn/results/loss_weights/compare_seed2.json
