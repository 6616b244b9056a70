#!/usr/bin/env bash
# Section 41 (after run.sh): RT10 tracked with the scale pyramid (P3) against RT10's own
# one-crop evaluations and the SiamFC teacher's recipe on two seeds (as section 38);
# where the boxes go wrong (box_errors.py) and how their sizes move (size_drift.py).
# Writes compare.json / .md, box_errors.json and size_drift.json here.
source studies/siamrpn/results/common.sh
R=$W/scale_pyramid
OUT=studies/siamrpn/results/scale_pyramid
python -m studies.siamrpn.compare \
    --runs="$FC_RT10_RUNS,P3:1=$R/RT10_P3_test256,P3:2=$R/RT10_s2_P3_test256" \
    --pairs=P3-RT10,P3-fc --out=$OUT/compare.json
EVALS="P3_s1=$R/RT10_P3_test256,P3_s2=$R/RT10_s2_P3_test256"
box_sizes $OUT "$EVALS"
echo done
