#!/usr/bin/env bash
# Section 37's next step: the SiamFC teacher's recipe (zoo/build.sh: configs/siamfc_teacher.py,
# 600 steps, there seed 0) on seed 1, then evaluated on the 256 test sequences, so that
# the SiamFC side of the budget comparison has its run-to-run spread too. Resumable.
source studies/siamrpn/results/common.sh
L=$W/loss_weights
mkdir -p $L
python -m dsiam_jax.main --config=configs/siamfc_teacher.py --workdir=$L/fc600_s1 --config.seed=1 \
    --config.train.num_steps=600 --config.train.checkpoint_every=200 >> $L/train_fc600_s1.log 2>&1
eval_test256 $L/fc600_s1_test256 $L/fc600_s1/checkpoints/600 > $L/eval_fc600_s1.log 2>&1
echo done
