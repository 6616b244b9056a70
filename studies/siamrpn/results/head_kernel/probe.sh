#!/usr/bin/env bash
# Section 40: size_probe on the classifier's tower (`--branches=cls`) for section 38's
# RT10 (seeds 1 and 2): whether a regression reading the classifier's features would find
# more of the target's size. Writes size_probe_branches.json here (the regression tower's
# own probe of the same pairs: results/tower_rate/size_probe.json).
source studies/siamrpn/results/common.sh
R38=$W/reg_rate
PYTHONPATH=. python -m studies.siamrpn.size_probe --branches=cls \
    --out=studies/siamrpn/results/head_kernel/size_probe_branches.json \
    --models="$R38/RT10/checkpoints/1000,$R38/RT10_s2/checkpoints/1000"
echo done
