#!/usr/bin/env bash
# Section 33, the budget: configs/siamrpn_matcher.py (the zoo teacher's recipe, seed 1) on
# a 1,000-step schedule instead of 2,000, about half the zoo teacher's training time,
# then the 256 test sequences with the default tracker (center=upsampled,
# aspect_rate=0) against the SiamFC teacher (fresh.sh's evaluation). Resumable.
source studies/siamrpn/results/common.sh
A=$W/aspect
python -m dsiam_jax.main $MATCHER_CONFIG --config.train.num_steps=1000 \
    --config.train.frozen_convs=0 \
    --config.seed=1 --workdir=$W/matcher/SL1k_s1
eval_test256 $A/SL1k_s1_test256 $W/matcher/SL1k_s1/checkpoints/1000
python -m studies.siamrpn.compare \
    --runs="fc:0=$A/siamfc_teacher_test256,L:0=$A/SL1k_s1_test256,T:0=$A/teacher_test256_a00" \
    --pairs=L-fc,T-L --out=studies/siamrpn/results/aspect/budget.json
echo done
