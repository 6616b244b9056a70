#!/usr/bin/env bash
# studies/siamrpn section 16: the reg branch's output conv started small
# (model.reg_init_scale=0.1; He-normal gives initial deltas of std 1-4 against targets
# of 0.1-0.5). (1) The full-size up-channel teacher, section 15's run with it;
# (2) E_long_lr3's small depth-wise recipe with it (2026-12-02; W=/work/runs, run from
# a snapshot of the repository).
source studies/siamrpn/results/common.sh  # W, run_eval
python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --workdir=$W/rpn_full/full_up_r01 \
    --config.model.init_from=siamfc_teacher --config.train.num_steps=40 \
    --config.train.log_every=5 --config.train.checkpoint_every=20 --config.train.max_to_keep=1 \
    --config.model.reg_init_scale=0.1
RPN="--config=configs/siamrpn_teacher.py --config.model.channels=(16,32,48,48,32)
     --config.model.head=depthwise --config.model.head_channels=32
     --config.train.warmup_steps=50 --config.loss.rpn_rank_weight=1.0
     --config.train.num_steps=2000 --config.train.checkpoint_every=250 --config.train.lr_end=1e-3"
python -m dsiam_jax.main $RPN --config.model.reg_init_scale=0.1 --workdir=$W/rpn_x/R_long_lr3
run_eval $W/rpn_x/R_long_lr3
run_eval $W/rpn_x/R_long_lr3 eval_peak --config.tracker.siamrpn.center=peak
# Parts of R replaced by the truth (hybrid.py; E's rows are in ../parts/hybrid.json).
python -m studies.siamrpn.hybrid --models=$W/rpn_x/R_long_lr3 --siamfc=$W/rpn_lr3/C_long_lr3 \
    --variants=trained,cls,reg,offsets,sizes --out=studies/siamrpn/results/reg_init/hybrid.json
# Second seeds of R and E, and R with the centre term (K's loss.rpn_center_weight).
# (This ran before 0.1 became the default; E's scale 1 is spelled out.)
python -m dsiam_jax.main $RPN --config.model.reg_init_scale=0.1 --config.seed=1 \
    --workdir=$W/rpn_x/R_long_lr3_s1
run_eval $W/rpn_x/R_long_lr3_s1
python -m dsiam_jax.main $RPN --config.model.reg_init_scale=1.0 --config.seed=1 \
    --workdir=$W/rpn_x/E_long_lr3_s1
run_eval $W/rpn_x/E_long_lr3_s1
python -m dsiam_jax.main $RPN --config.model.reg_init_scale=0.1 --config.loss.rpn_center_weight=1.0 \
    --workdir=$W/rpn_x/RK_long_lr3
run_eval $W/rpn_x/RK_long_lr3
python -m studies.siamrpn.compare --out=studies/siamrpn/results/reg_init/compare.json \
    --runs="E:0=$W/rpn_lr3/E_long_lr3/eval,E:1=$W/rpn_x/E_long_lr3_s1/eval,R:0=$W/rpn_x/R_long_lr3/eval,R:1=$W/rpn_x/R_long_lr3_s1/eval,Rpk:0=$W/rpn_x/R_long_lr3/eval_peak,Epk:0=$W/rpn_lr3/E_long_lr3/eval_peak,RK:0=$W/rpn_x/RK_long_lr3/eval,K:0=$W/rpn_x/K_long_lr3/eval,C:0=$W/rpn_lr3/C_long_lr3/eval" \
    --pairs="R-E,Rpk-Epk,RK-R,RK-K,C-R,C-RK"
python -m studies.siamrpn.hybrid --models=$W/rpn_x/R_long_lr3_s1,$W/rpn_x/RK_long_lr3 \
    --variants=trained,cls,reg --out=studies/siamrpn/results/reg_init/hybrid.json
# The full-size teacher again, 100 steps (its own schedule: warm-up over 25 steps).
python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --workdir=$W/rpn_full/full_up_r01_100 \
    --config.model.init_from=siamfc_teacher --config.train.num_steps=100 \
    --config.train.log_every=5 --config.train.checkpoint_every=25 --config.train.max_to_keep=1
cp $W/rpn_full/full_up_r01_100/metrics.jsonl studies/siamrpn/results/reg_init/full_up_100_metrics.jsonl
python -m studies.distillation.plot_losses --sweep=$W/rpn_full --runs=full_up,full_up_r01,full_up_r01_100 \
    --terms=siamrpn_teacher/gt_cls,siamrpn_teacher/gt_rank,siamrpn_teacher/gt_reg,grad_norm \
    --out=studies/siamrpn/results/reg_init/full_up_losses.png
