#!/usr/bin/env bash
# Section 28: how much of each model's tracking is its training scenes'. The first 64
# synthetic TRAIN scenes (the 64 that section 27's M and the zoo's teachers trained on,
# and 64 of the 512 that S and SL trained on), tracked like the test split
# (eval.split=train, eval.max_sequences=64). Run after results/matcher/run.sh and
# run.sh here; from the repository root (or a snapshot of it).
source studies/siamrpn/results/common.sh
M=$W/matcher
eval_synthetic $M/eval_train_1000 $M/run/checkpoints/1000 train
eval_synthetic $M/eval_train_zoo siamfc_teacher,siamrpn_teacher train
for ARM in S SL; do eval_synthetic $M/eval_train_${ARM}_1000 $M/$ARM/checkpoints/1000 train; done
# Section 29: SL on the 2,000-step schedule (long.sh), at its end.
eval_synthetic $M/eval_train_SL2k_2000 $M/SL2k/checkpoints/2000 train
echo done
