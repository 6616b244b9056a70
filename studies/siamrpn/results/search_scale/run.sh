#!/usr/bin/env bash
# Section 40 (written for the next session): the search crop's scale jitter. The search
# crop is cut around the search frame's own box, so the size the regression learns to
# read varies only by that jitter (data.augment.search_scale=0.18, pysot's: U(0.82, 1.18),
# a log-size std of 0.10), where a tracker's boxes are off by 0.15-0.19 in log size
# (section 40's box errors). SS30: section 38's recipe (configs/siamrpn_matcher.py, 1,000
# steps) with search_scale=0.3 (std 0.17), seeds 1 and 2; each evaluated on the 256 test
# sequences with the default tracker, to pair with RT10 (results/reg_rate).
# Resumable: rerun the same command (ONLY=SS30 | SS30_s2 runs one part).
source studies/siamrpn/results/common.sh
R=$W/search_scale
mkdir -p $R
part() {  # name seed
  f1k_part $R $1 $2 --config.train.reg_lr_scale=10 --config.data.augment.search_scale=0.3
}
part SS30 1 &
part SS30_s2 2 &
wait
echo done
