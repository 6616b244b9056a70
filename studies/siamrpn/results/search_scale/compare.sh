#!/usr/bin/env bash
# Section 41 (after run.sh): SS30 (search_scale=0.3) against RT10 on the same seeds and
# the SiamFC teacher's recipe on two seeds (as section 38); how its box sizes move
# (size_drift.py). Writes compare.json / .md and size_drift.json here.
source studies/siamrpn/results/common.sh
R=$W/search_scale
OUT=studies/siamrpn/results/search_scale
RUNS="SS30:1=$R/SS30_test256"
EVALS="SS30_s1=$R/SS30_test256"
if [ -f $R/SS30_s2_test256/eval.json ]; then
  RUNS="$RUNS,SS30:2=$R/SS30_s2_test256"
  EVALS="$EVALS,SS30_s2=$R/SS30_s2_test256"
fi
python -m studies.siamrpn.compare --runs="$FC_RT10_RUNS,$RUNS" --pairs=SS30-RT10,SS30-fc \
    --out=$OUT/compare.json
PYTHONPATH=. python -m studies.siamrpn.size_drift --split=test --out=$OUT/size_drift.json \
    --evals="$EVALS"
echo done
