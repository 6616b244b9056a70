#!/usr/bin/env bash
# studies/siamrpn section 22 (it ended at step 5,500; section 25 rebuilt the zoo instead):
# a SiamRPN teacher for the zoo with today's recipe (N's:
# sections 16-17, the library's defaults plus the study's schedule), at the widths of
# the zoo's earlier RPN teacher (48-128-192-192-128, depth-wise head 128, 6.30 MB),
# whose students 16-32-48-48-24 with head 24 (0.348 MB) are 18.1x smaller.
# W=/work/runs, run from a snapshot of the repository; resumable (rerun it: the
# training continues from its last checkpoint).
source studies/siamrpn/results/common.sh  # W, train_and_eval, N_RECIPE
train_and_eval $W/zoo_rpn/teacher $N_RECIPE --config.model.channels="(48,128,192,192,128)" \
    --config.model.head_channels=128 --config.train.checkpoint_every=250 \
    --config.train.num_steps=${STEPS:-6000}
# Two 16-32-48-48-24 students (head 24, 18.1x) distilled from it with the SiamRPN
# distillation recipe (configs/dstrpn.py: soft + teacher-bounded regression + sharing)
# on N's optimiser (rate 5e-3 -> 1e-3, weight decay 1e-4, clip 10, 50 warm-up steps),
# and the same student from scratch (N's recipe) for the distilled - scratch comparison.
train_and_eval $W/zoo_rpn/dstrpn --config=configs/dstrpn.py --config.teacher.checkpoint=$W/zoo_rpn/teacher \
    --config.distill.students="((16,32,48,48,24),(16,32,48,48,24))" \
    --config.distill.student_head_channels=24 --config.train.lr_start=5e-3 \
    --config.train.lr_end=1e-3 --config.train.weight_decay=1e-4 --config.train.warmup_steps=50 \
    --config.train.checkpoint_every=250 --config.train.num_steps=${STUDENT_STEPS:-4000}
train_and_eval $W/zoo_rpn/scratch $N_RECIPE --config.model.channels="(16,32,48,48,24)" \
    --config.model.head_channels=24 --config.train.checkpoint_every=250 \
    --config.train.num_steps=${STUDENT_STEPS:-4000}
