#!/usr/bin/env bash
# Section 27's control: run.sh's recipe with the backbone from the SiamFC teacher but a
# random classifier (no rpn_cls_xcorr, cls_init_scale 1): what model.init_from alone did.
source studies/siamrpn/results/common.sh
M=$W/matcher
CONTROL="$N_RECIPE --config.model.channels=(96,256,384,384,256) --config.model.head_channels=256
     --config.model.init_from=siamfc_teacher --config.model.final_bn=False
     --config.train.checkpoint_every=250 --config.train.max_to_keep=0"
python -m dsiam_jax.main $CONTROL --config.train.num_steps=1000 --workdir=$M/control
eval_synthetic $M/eval_control $M/control
echo done
