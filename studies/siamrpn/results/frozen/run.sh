#!/usr/bin/env bash
# Section 34: the zoo teacher's recipe (configs/siamrpn_matcher.py, seed 1) with conv1-3
# of its backbone fixed (train.frozen_convs=3, pysot's TRAIN_LAYERS for AlexNet: only
# conv4-5 train, still at 0.1x), on 1,000 and 2,000-step schedules (one after the other:
# side by side they share 2 cores worse than in turn), then the 256 test sequences with the default tracker against section 33's
# SiamFC teacher, SL1k (the same recipe, backbone all trained, 1,000 steps) and the zoo's
# RPN teacher (2,000 steps). Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
A=$W/aspect
F=$W/frozen
mkdir -p $F
train() {  # steps
  python -m dsiam_jax.main $MATCHER_CONFIG --config.train.num_steps=$1 \
      --config.train.frozen_convs=3 --config.seed=1 --workdir=$W/matcher/F3_${1}_s1
}
evaluate() {  # steps
  eval_test256 $F/F3_${1}_s1_test256 $W/matcher/F3_${1}_s1/checkpoints/$1
}
train 1000 >> $F/train_1000.log 2>&1
evaluate 1000
train 2000 >> $F/train_2000.log 2>&1
evaluate 2000
python -m studies.siamrpn.compare \
    --runs="fc:0=$A/siamfc_teacher_test256,L:0=$A/SL1k_s1_test256,T:0=$A/teacher_test256_a00,F1k:0=$F/F3_1000_s1_test256,F2k:0=$F/F3_2000_s1_test256" \
    --pairs=F1k-fc,F2k-fc,L-fc,T-fc,F1k-L,F2k-T,F2k-F1k --out=studies/siamrpn/results/frozen/compare.json
echo done
