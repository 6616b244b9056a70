#!/usr/bin/env bash
# Section 27's control: run.sh's recipe with the backbone from the SiamFC teacher but a
# random classifier (no rpn_cls_xcorr, cls_init_scale 1): what model.init_from alone did.
source studies/siamrpn/results/common.sh
M=$W/matcher
python -m dsiam_jax.main $FC_BACKBONE_RECIPE --config.train.num_steps=1000 --workdir=$M/control
eval_synthetic $M/eval_control $M/control
echo done
