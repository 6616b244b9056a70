#!/usr/bin/env bash
# Section 34: F3 (run.sh) with conv4-5 at the full rate (train.backbone_lr_scale=1, pysot's
# LAYERS_LR for AlexNet, whose conv1-3 it never trains), 1,000 steps, seed 1, evaluated
# on the same 256 test sequences and compared with F3_1k and the SiamFC teacher. Resumable.
source studies/siamrpn/results/common.sh
F=$W/frozen
python -m dsiam_jax.main $MATCHER_CONFIG --config.train.num_steps=1000 \
    --config.train.frozen_convs=3 --config.train.backbone_lr_scale=1.0 --config.seed=1 \
    --workdir=$W/matcher/F3r1_1000_s1 >> $F/train_r1_1000.log 2>&1
eval_test256 $F/F3r1_1000_s1_test256 $W/matcher/F3r1_1000_s1/checkpoints/1000
python -m studies.siamrpn.compare \
    --runs="fc:0=$W/aspect/siamfc_teacher_test256,F1k:0=$F/F3_1000_s1_test256,F1kr1:0=$F/F3r1_1000_s1_test256" \
    --pairs=F1kr1-F1k,F1kr1-fc --out=studies/siamrpn/results/frozen/rate.json
echo done
