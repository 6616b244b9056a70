#!/usr/bin/env bash
# Section 38: F1k's recipe on 2,000 steps (section 34's F2k) on seed 2 (`STEPS=2000 bash
# seed2.sh F2k_s2`) against the zoo's SiamFC teacher on the 256 test sequences; with
# section 37's F1k_s2 beside it (the same seed at 1,000 steps). Section 34's seed-1 F2k
# ran on another machine (its per-sequence results are not here): section 38 pools the
# two seeds from their paired differences. Writes compare_f2k_seed2.json / .md here.
source studies/siamrpn/results/common.sh
L=$W/loss_weights
E=$W/ema
FC=$E/siamfc_teacher_test256
python -m studies.siamrpn.compare \
    --runs="fc:2=$FC,F2k:2=$L/F2k_s2_test256,F1k:2=$L/F1k_s2_test256" \
    --pairs=F2k-fc,F2k-F1k,F1k-fc \
    --out=studies/siamrpn/results/loss_weights/compare_f2k_seed2.json
