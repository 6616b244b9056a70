#!/usr/bin/env bash
# Section 41: the size regression on the tracking distribution (tracking_bias.py) of
# section 38's RT10 on seeds 1 and 2 and the zoo's RPN teacher, on 24 synthetic
# validation sequences: the tracker's own loop, and crops around the previous true box
# with its size off by e^-0.2, 1, e^0.2. Resumable per model (skips models already in the JSON).
source studies/siamrpn/results/common.sh
OUT=studies/siamrpn/results/size_bias/tracking_bias.json
for m in $W/reg_rate/RT10/checkpoints/1000 $W/reg_rate/RT10_s2/checkpoints/1000 siamrpn_teacher; do
  grep -q "\"$m split" $OUT 2>/dev/null && continue
  PYTHONPATH=. python -m studies.siamrpn.tracking_bias --models=$m --split=val \
    --sequences=24 --offsets=-0.2,0,0.2 --out=$OUT
done
