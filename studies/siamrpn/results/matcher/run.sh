#!/usr/bin/env bash
# Section 27: an RPN teacher at the SiamFC teacher's widths (96-256-384-384-256, depth-wise
# head 256) whose backbone AND classifier start from the zoo's SiamFC teacher
# (model.init_from + model.rpn_cls_xcorr + model.cls_init_scale=0: every anchor's
# foreground log-odds start as the SiamFC's response; model.final_bn=False keeps that
# exact), N's recipe otherwise. Run from the repository root (or a snapshot of it);
# resumable. Evaluations: the 64 synthetic test sequences, the default RPN window rule
# (normalized), with the zoo's SiamFC teacher and RPN teacher alongside.
source studies/siamrpn/results/common.sh
M=$W/matcher
# The start: one warm-up step at 1e-4 (the classifier is the SiamFC's; the boxes are
# the anchors' plus a small random regression).
python -m dsiam_jax.main $MATCHER_RECIPE --config.train.num_steps=1 --config.train.warmup_steps=0 \
    --config.train.lr_start=1e-4 --config.train.lr_end=1e-4 --workdir=$M/start
eval_synthetic $M/eval_start $M/start
# The run: 1000 steps (rate 5e-3 after 50 warm-up steps, decaying to 1e-3).
python -m dsiam_jax.main $MATCHER_RECIPE --config.train.num_steps=1000 --workdir=$M/run
for s in 250 500 750 1000; do eval_synthetic $M/eval_$s $M/run/checkpoints/$s; done
eval_synthetic $M/eval_zoo siamfc_teacher,siamrpn_teacher
echo done
