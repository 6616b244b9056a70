#!/usr/bin/env bash
# Section 38: the regression tower at ten times the rate (run.sh: RT10 on seeds 1 and 2)
# against F1k on the same seeds (section 35's rerun, section 37's F1k_s2) and against the
# SiamFC teacher's recipe on two seeds (the zoo's, seed 0, matched with seed 1; section
# 37's fc600_s1 with seed 2); then where the boxes go wrong (box_errors.py) and how much
# of the target's size each regression reads (size_regression.py). Writes compare.json /
# .md, box_errors.json and size_regression.json here.
source studies/siamrpn/results/common.sh
R=$W/reg_rate
L=$W/loss_weights
E=$W/ema
OUT=studies/siamrpn/results/reg_rate
F1=$E/F3_1000_ema_test256#siamrpn_teacher_raw
python -m studies.siamrpn.compare \
    --runs="fc:1=$E/siamfc_teacher_test256,fc:2=$L/fc600_s1_test256,F1k:1=$F1,F1k:2=$L/F1k_s2_test256,RT10:1=$R/RT10_test256,RT10:2=$R/RT10_s2_test256" \
    --pairs=RT10-F1k,RT10-fc,F1k-fc --out=$OUT/compare.json
PYTHONPATH=. python -m studies.siamrpn.box_errors --split=test --out=$OUT/box_errors.json \
    --evals="F1k_s1=$F1,F1k_s2=$L/F1k_s2_test256,F2k_s2=$L/F2k_s2_test256,RT10_s1=$R/RT10_test256,RT10_s2=$R/RT10_s2_test256,fc_s0=$E/siamfc_teacher_test256,fc_s1=$L/fc600_s1_test256"
# (the first line ran while RT10 trained; the second merges RT10's entries)
PYTHONPATH=. python -m studies.siamrpn.size_regression --out=$OUT/size_regression.json \
    --models="$E/F3_1000_ema/checkpoints/1000#siamrpn_teacher_raw,$L/F1k_s2/checkpoints/1000,$L/F2k_s2/checkpoints/2000,siamrpn_teacher"
PYTHONPATH=. python -m studies.siamrpn.size_regression --out=$OUT/size_regression.json \
    --models="$R/RT10/checkpoints/1000,$R/RT10_s2/checkpoints/1000"
echo done
