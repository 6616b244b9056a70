#!/usr/bin/env bash
# studies/siamrpn section 26: the zoo's DSTrpn students with twice the steps. zoo/build.sh's
# siamrpn distillation command (two 16-32-48-48-24 students, head 24, 18.1x) from the
# published zoo teacher (`siamrpn_teacher`), 4000 steps instead of 2000 (the rate decays
# over the whole run); evaluated with the zoo's three SiamRPN models on the 64 synthetic
# test sequences (default window rule) and compared in pairs with the teacher and with
# the same student trained from scratch for 4000 steps.
# W=/work/runs; run from a snapshot of the repository. Resumable: rerunning skips what is done.
source studies/siamrpn/results/common.sh  # W, eval_once, N_RECIPE
Z=$W/zoo
OUT=studies/siamrpn/results/zoo_rpn
NORMALIZED=--config.tracker.siamrpn.score_map=normalized
python -m dsiam_jax.main --config=configs/dstrpn.py --config.teacher.checkpoint=siamrpn_teacher \
    --workdir=$Z/dstrpn_4000 --config.train.warmup_steps=50 --config.train.lr_start=5e-3 \
    --config.train.lr_end=1e-3 --config.train.weight_decay=1e-4 \
    --config.train.checkpoint_every=250 --config.distill.student_head_channels=24 \
    --config.distill.students="((16,32,48,48,24),(16,32,48,48,24))" \
    --config.train.num_steps=4000
eval_once $Z/dstrpn_4000 eval_normalized $NORMALIZED
# Z0 / Z1 below are the 2000-step students of section 25, which the zoo held when this ran;
# since section 26 the zoo's siamrpn_student_* are this run's (4000 steps). To reproduce
# Z0 / Z1, run from a checkout whose zoo/ is at commit 9d0cda8.
[ -f $Z/zoo_eval/eval.json ] || python -m dsiam_jax.main --config=configs/evaluate.py \
    --config.checkpoint=siamrpn_teacher,siamrpn_student_0,siamrpn_student_1 \
    --config.eval.layout=synthetic --config.eval.split=test --config.backend=jax $NORMALIZED \
    --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0 \
    --workdir=$Z/zoo_eval
# The same student from scratch on N's recipe for the same 4000 steps (run.sh's scratch
# run, twice as long): only the losses differ.
python -m dsiam_jax.main $N_RECIPE --workdir=$Z/scratch_rpn_4000 --config.train.num_steps=4000 \
    --config.model.channels="(16,32,48,48,24)" --config.model.head_channels=24 \
    --config.train.checkpoint_every=250 --config.seed=0
eval_once $Z/scratch_rpn_4000 eval_normalized $NORMALIZED
E=$Z/dstrpn_4000/eval_normalized
python -m studies.siamrpn.compare --out=$OUT/zoo_4000_normalized.json \
    --runs="T:0=$Z/zoo_eval#siamrpn_teacher,Z0:0=$Z/zoo_eval#siamrpn_student_0,Z1:0=$Z/zoo_eval#siamrpn_student_1,L0:0=$E#student_0,L1:0=$E#student_1,S:0=$Z/scratch_rpn_4000/eval_normalized" \
    --pairs="T-L0,T-L1,T-Z0,T-Z1,L0-Z0,L1-Z1,L0-S,L1-S,T-S"
