#!/usr/bin/env bash
# Section 35: a moving average of the RPN teacher's weights (train.ema_decay=0.995, a
# half-life of about 140 steps) on section 34's F3_1k run (configs/siamrpn_matcher.py:
# conv1-3 fixed, 1,000 steps, seed 1). The average is a shadow of the raw weights, so
# the one run gives both: the checkpoint holds the average as `siamrpn_teacher` and the
# raw weights (F3_1k's exact trajectory) as `siamrpn_teacher_raw`, and one evaluation
# tracks both on the 256 test sequences, paired with the zoo's SiamFC teacher.
# Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
E=$W/ema
mkdir -p $E
python -m dsiam_jax.main $MATCHER_CONFIG --config.train.num_steps=1000 \
    --config.train.frozen_convs=3 --config.seed=1 --config.train.ema_decay=0.995 \
    --workdir=$E/F3_1000_ema >> $E/train.log 2>&1
eval_test256 $E/F3_1000_ema_test256 $E/F3_1000_ema/checkpoints/1000
eval_test256 $E/siamfc_teacher_test256 siamfc_teacher
ls $E/F3_1000_ema_test256/results
python -m studies.siamrpn.compare \
    --runs="fc:0=$E/siamfc_teacher_test256,raw:0=$E/F3_1000_ema_test256#siamrpn_teacher_raw,ema:0=$E/F3_1000_ema_test256#siamrpn_teacher" \
    --pairs=raw-fc,ema-fc,ema-raw --out=$E/compare.json
echo done
