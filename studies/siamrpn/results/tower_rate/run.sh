#!/usr/bin/env bash
# Section 39: more of section 38's lever. RT30: the regression tower at 30 times the rate
# (train.reg_lr_scale=30; section 38 adopted 10) on seeds 1 and 2. CT3: section 38's
# recipe (configs/siamrpn_matcher.py, reg_lr_scale=10) with the classifier's tower at
# three times the rate (train.cls_lr_scale=3), both on seeds 1 and 2. F1k's recipe
# otherwise (conv1-3 fixed, 1,000 steps); each evaluated on the 256 test sequences with
# the default tracker, paired with RT10 on the same seed (results/reg_rate) by compare.sh.
# Resumable: rerun the same command (ONLY=RT30 | RT30_s2 | CT3 | CT3_s2 runs one part).
source studies/siamrpn/results/common.sh
R=$W/tower_rate
mkdir -p $R
part() { f1k_part $R "$@"; }  # name seed overrides...
part RT30 1 --config.train.reg_lr_scale=30 &
part RT30_s2 2 --config.train.reg_lr_scale=30 &
part CT3 1 --config.train.reg_lr_scale=10 --config.train.cls_lr_scale=3 &
part CT3_s2 2 --config.train.reg_lr_scale=10 --config.train.cls_lr_scale=3 &
wait
echo done
