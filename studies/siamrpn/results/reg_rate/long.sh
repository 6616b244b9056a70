#!/usr/bin/env bash
# Section 40: section 38's recipe (configs/siamrpn_matcher.py as it stands: conv1-3 fixed,
# the regression tower at 10x) on its own 2,000-step schedule (F2k's, section 34), seeds 1
# and 2 (RT2k, RT2k_s2); each evaluated on the 256 test sequences with the default
# tracker. Long (about 75 minutes each alone on this CPU): resumable from its checkpoints
# (every 250 steps); rerun the same command (ONLY=RT2k | RT2k_s2 runs one part).
source studies/siamrpn/results/common.sh
R=$W/reg_rate
mkdir -p $R
export STEPS=2000
part() { f1k_part $R $1 $2 --config.train.reg_lr_scale=10; }  # name seed
part RT2k 1 &
part RT2k_s2 2 &
wait
echo done
