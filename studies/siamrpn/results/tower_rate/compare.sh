#!/usr/bin/env bash
# Section 39 (after run.sh): RT30 (the regression tower at 30x) and CT3 (section 38's
# recipe with the classifier's tower at 3x) against RT10 on the same seeds (section 38)
# and the SiamFC teacher's recipe on two seeds (as section 38); where the boxes go wrong
# (box_errors.py); a linear probe of the regression tower's features (size_probe.py).
# Writes compare.json / .md, box_errors.json and size_probe.json here.
source studies/siamrpn/results/common.sh
R=$W/tower_rate
R38=$W/reg_rate
L=$W/loss_weights
OUT=studies/siamrpn/results/tower_rate
python -m studies.siamrpn.compare \
    --runs="$FC_RT10_RUNS,RT30:1=$R/RT30_test256,RT30:2=$R/RT30_s2_test256,CT3:1=$R/CT3_test256,CT3:2=$R/CT3_s2_test256" \
    --pairs=RT30-RT10,CT3-RT10,RT30-fc,CT3-fc --out=$OUT/compare.json
PYTHONPATH=. python -m studies.siamrpn.box_errors --split=test --out=$OUT/box_errors.json \
    --evals="RT30_s1=$R/RT30_test256,RT30_s2=$R/RT30_s2_test256,CT3_s1=$R/CT3_test256,CT3_s2=$R/CT3_s2_test256"
# whether the regression tower's features carry the target's size (a linear probe; run
# while run.sh trained, on section 38's RT10 and section 37's F1k seed 2)
PYTHONPATH=. python -m studies.siamrpn.size_probe --out=$OUT/size_probe.json \
    --models="$R38/RT10_s2/checkpoints/1000,$R38/RT10/checkpoints/1000,$L/F1k_s2/checkpoints/1000"
echo done
