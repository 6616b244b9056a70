#!/usr/bin/env bash
# Section 27, third arm: run.sh's matcher with the backbone frozen (train.backbone_lr_scale=0:
# the SiamFC teacher's features stay; the head learns on them), the same 1000-step
# schedule, stopped after 500 steps (train.exit_after_steps; rerun without it to finish).
source studies/siamrpn/results/common.sh
M=$W/matcher
FROZEN="$MATCHER_RECIPE --config.train.backbone_lr_scale=0"
python -m dsiam_jax.main $FROZEN --config.train.num_steps=1000 --config.train.exit_after_steps=500 \
    --workdir=$M/frozen
for s in 250 500; do eval_synthetic $M/eval_frozen_$s $M/frozen/checkpoints/$s; done
echo done
