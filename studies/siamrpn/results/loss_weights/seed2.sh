#!/usr/bin/env bash
# Section 37, a second seed: one recipe of run.sh (F1k's, or one of its loss weights) with
# seed 2 (other pairs, another order), evaluated on the 256 test sequences as run.sh's.
#   bash studies/siamrpn/results/loss_weights/seed2.sh F1k_s2
#   bash studies/siamrpn/results/loss_weights/seed2.sh R0_s2 --config.loss.rpn_rank_weight=0.0
#   STEPS=2000 bash studies/siamrpn/results/loss_weights/seed2.sh F2k_s2   (section 34's F2k)
# Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
L=$W/loss_weights
mkdir -p $L
STEPS=${STEPS:-1000}
SEED=2 train_f1k $L $1 "${@:2}"
eval_test256 $L/${1}_test256 $L/$1/checkpoints/$STEPS > $L/eval_$1.log 2>&1
echo done
