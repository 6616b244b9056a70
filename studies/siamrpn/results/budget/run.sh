#!/usr/bin/env bash
# studies/siamrpn section 19: twice the steps for both families (4,000 against 2,000):
# does the RPN - SiamFC gap close with the training budget? N's recipe (sections
# 16-17, today's defaults) and C_long_lr3's (section 12), seed 0.
# W=/work/runs, run from a snapshot of the repository.
source studies/siamrpn/results/common.sh  # W, run_eval
RPN="$N_SMALL --config.train.checkpoint_every=500"
FC="--config=configs/siamfc_teacher.py --config.model.channels=(16,32,48,48,32)
    --config.train.checkpoint_every=500 --config.train.lr_end=1e-3"
python -m dsiam_jax.main $RPN --config.train.num_steps=4000 --workdir=$W/rpn_budget/N_4k
run_eval $W/rpn_budget/N_4k
python -m dsiam_jax.main $FC --config.train.num_steps=4000 --workdir=$W/rpn_budget/C_4k
run_eval $W/rpn_budget/C_4k
python -m studies.siamrpn.compare --out=studies/siamrpn/results/budget/compare.json \
    --runs="N:0=$W/rpn_neg/N_long_lr3_s0/eval,N4k:0=$W/rpn_budget/N_4k/eval,C:0=$W/rpn_lr3/C_long_lr3/eval,C4k:0=$W/rpn_budget/C_4k/eval" \
    --pairs="N4k-N,C4k-C,C-N,C4k-N4k"
python -m studies.siamrpn.hybrid --models=$W/rpn_budget/N_4k \
    --variants=trained,cls,reg --out=studies/siamrpn/results/budget/hybrid.json
