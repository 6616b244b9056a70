#!/usr/bin/env bash
# Section 27, third arm: run.sh's matcher with the backbone frozen (train.backbone_lr_scale=0:
# the SiamFC teacher's features stay; the head learns on them), the same 1000-step
# schedule, stopped after 500 steps (train.exit_after_steps; rerun without it to finish).
source studies/siamrpn/results/common.sh
M=$W/matcher
FROZEN="$N_RECIPE --config.model.channels=(96,256,384,384,256) --config.model.head_channels=256
     --config.model.init_from=siamfc_teacher --config.model.rpn_cls_xcorr=True
     --config.model.cls_init_scale=0 --config.model.final_bn=False
     --config.train.backbone_lr_scale=0
     --config.train.checkpoint_every=250 --config.train.max_to_keep=0"
python -m dsiam_jax.main $FROZEN --config.train.num_steps=1000 --config.train.exit_after_steps=500 \
    --workdir=$M/frozen
for s in 250 500; do
  [ -f $M/eval_frozen_$s/eval.json ] || python -m dsiam_jax.main --config=configs/evaluate.py \
      --config.checkpoint=$M/frozen/checkpoints/$s --config.eval.layout=synthetic \
      --config.eval.split=test --workdir=$M/eval_frozen_$s --config.backend=jax
done
echo done
