#!/usr/bin/env bash
# Section 40: section 38's recipe (configs/siamrpn_matcher.py as it stands: conv1-3 fixed,
# the regression tower at 10x) on its own 2,000-step schedule (F2k's, section 34), seeds 1
# and 2 (RT2k, RT2k_s2); each evaluated on the 256 test sequences with the default
# tracker. Long (about 75 minutes each alone on this CPU): resumable from its checkpoints
# (every 250 steps); rerun the same command (ONLY=RT2k | RT2k_s2 runs one part).
source studies/siamrpn/results/common.sh
R=$W/reg_rate
mkdir -p $R
part() {  # name seed
  [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ] || return 0
  SEED=$2 STEPS=2000 train_f1k $R $1 --config.train.reg_lr_scale=10
  eval_test256 $R/$1_test256 $R/$1/checkpoints/2000 > $R/eval_$1.log 2>&1
}
part RT2k 1 &
part RT2k_s2 2 &
wait
echo done
