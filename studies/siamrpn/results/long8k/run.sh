#!/usr/bin/env bash
# studies/siamrpn section 20: the small RPN (N's recipe, today's defaults) for 8,000
# steps, seed 0 (section 19: 2,000 -> 4,000 steps gained +0.028, SiamFC saturated at
# 2,000); then section 21: every anchor of the map in the classification loss (dense,
# like SiamFC's cells) instead of 64 sampled, 2,000 steps, seed 0.
# W=/work/runs, run from a snapshot of the repository; resumable (rerun it).
source studies/siamrpn/results/common.sh  # W, run_eval, train_and_eval, N_SMALL
RPN="$N_SMALL --config.train.checkpoint_every=500"
OUT=studies/siamrpn/results/long8k
train_and_eval $W/rpn_long8k/N_8k $RPN --config.train.num_steps=8000
python -m studies.siamrpn.compare --out=$OUT/compare.json \
    --runs="N:0=$W/rpn_neg/N_long_lr3_s0/eval,N4k:0=$W/rpn_budget/N_4k/eval,N8k:0=$W/rpn_long8k/N_8k/eval,C:0=$W/rpn_lr3/C_long_lr3/eval,C4k:0=$W/rpn_budget/C_4k/eval" \
    --pairs="N8k-N4k,N8k-N,C-N8k,C4k-N8k"
python -m studies.siamrpn.hybrid --models=$W/rpn_long8k/N_8k \
    --variants=trained,cls,reg --out=$OUT/hybrid.json
# section 21: dense classification targets (all anchors with IoU < 0.3 negative).
train_and_eval $W/rpn_long8k/D_s0 $RPN --config.train.num_steps=2000 \
    --config.loss.rpn_num_samples=2048
python -m studies.siamrpn.compare --out=$OUT/dense.json \
    --runs="N:0=$W/rpn_neg/N_long_lr3_s0/eval,D:0=$W/rpn_long8k/D_s0/eval,C:0=$W/rpn_lr3/C_long_lr3/eval" \
    --pairs="D-N,C-D"
python -m studies.siamrpn.hybrid --models=$W/rpn_long8k/D_s0 \
    --variants=trained,cls,reg --out=$OUT/dense_hybrid.json
# section 23: N's recipe with the backbone started from C_long_lr3 (the trained SiamFC
# of the same widths, model.init_from), 2,000 steps, seed 0.
train_and_eval $W/rpn_long8k/I_s0 $RPN --config.train.num_steps=2000 \
    --config.model.init_from=$W/rpn_lr3/C_long_lr3
python -m studies.siamrpn.compare --out=$OUT/init.json \
    --runs="N:0=$W/rpn_neg/N_long_lr3_s0/eval,N8k:0=$W/rpn_long8k/N_8k/eval,I:0=$W/rpn_long8k/I_s0/eval,C:0=$W/rpn_lr3/C_long_lr3/eval" \
    --pairs="I-N,N8k-I,C-I"
python -m studies.siamrpn.hybrid --models=$W/rpn_long8k/I_s0 \
    --variants=trained,cls,reg --out=$OUT/init_hybrid.json
# section 23 (cont.): the trained SiamFC's response as N_8k's classifier, with N_8k's
# own regression: a classifier as good as SiamFC's, through the RPN's tracker.
python -m studies.siamrpn.hybrid --models=$W/rpn_long8k/N_8k --siamfc=$W/rpn_lr3/C_long_lr3 \
    --variants=siamfc --out=$OUT/siamfc_hybrid.json
