#!/usr/bin/env bash
# studies/siamrpn section 17: a negative pair's negatives drawn around the object its
# search crop shows (pysot's 7 x 7 window, 16 anchors; loss.rpn_neg_pair_radius=3)
# instead of 64 anywhere on the map (-1, the rule before). R_long_lr3's recipe
# (section 16) otherwise; W=/work/runs, run from a snapshot of the repository.
source studies/siamrpn/results/common.sh  # W, run_eval
RPN="--config=configs/siamrpn_teacher.py --config.model.channels=(16,32,48,48,32)
     --config.model.head=depthwise --config.model.head_channels=32
     --config.train.warmup_steps=50 --config.loss.rpn_rank_weight=1.0
     --config.train.num_steps=2000 --config.train.checkpoint_every=250 --config.train.lr_end=1e-3
     --config.model.reg_init_scale=0.1"
for seed in 0 1; do
  python -m dsiam_jax.main $RPN --config.loss.rpn_neg_pair_radius=3 --config.seed=$seed \
      --workdir=$W/rpn_neg/N_long_lr3_s$seed
  run_eval $W/rpn_neg/N_long_lr3_s$seed
done
python -m studies.siamrpn.compare --out=studies/siamrpn/results/neg_pairs/compare.json \
    --runs="R:0=$W/rpn_x/R_long_lr3/eval,R:1=$W/rpn_x/R_long_lr3_s1/eval,N:0=$W/rpn_neg/N_long_lr3_s0/eval,N:1=$W/rpn_neg/N_long_lr3_s1/eval,C:0=$W/rpn_lr3/C_long_lr3/eval" \
    --pairs="N-R,C-N"
python -m studies.siamrpn.hybrid --models=$W/rpn_neg/N_long_lr3_s0 \
    --variants=trained,cls,reg --out=studies/siamrpn/results/neg_pairs/hybrid.json
# How much each search crop's map depends on the template (section 4's measurement;
# 64 held-out pairs), for R (section 16), N and the SiamFC of the same widths.
python -m studies.siamrpn.diagnose --template_swap --models=$W/rpn_x/R_long_lr3,$W/rpn_neg/N_long_lr3_s0 \
    --siamfc=$W/rpn_lr3/C_long_lr3 --pairs=64 --out=$W/rpn_neg/swap
cp $W/rpn_neg/swap/diagnose.json studies/siamrpn/results/neg_pairs/template_swap.json
