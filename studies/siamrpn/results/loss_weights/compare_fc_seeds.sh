#!/usr/bin/env bash
# Section 37: two seeds on each side at about SiamFC's own training time. The SiamFC
# teacher's recipe on seed 0 (the zoo's) and seed 1 (siamfc_seed1.sh) against F1k's recipe
# on seeds 1 and 2 (section 35's rerun, seed2.sh F1k_s2); each side's mean over its two
# runs per sequence (the runs are matched in order: compare.py pairs equal seed labels).
# Writes compare_fc_seeds.json / .md here.
source studies/siamrpn/results/common.sh
L=$W/loss_weights
E=$W/ema
python -m studies.siamrpn.compare \
    --runs="fc:1=$E/siamfc_teacher_test256,fc:2=$L/fc600_s1_test256,F1k:1=$E/F3_1000_ema_test256#siamrpn_teacher_raw,F1k:2=$L/F1k_s2_test256,fc0:0=$E/siamfc_teacher_test256,fc1:0=$L/fc600_s1_test256" \
    --pairs=fc1-fc0,F1k-fc \
    --out=studies/siamrpn/results/loss_weights/compare_fc_seeds.json
