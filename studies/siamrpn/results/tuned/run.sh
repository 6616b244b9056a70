#!/usr/bin/env bash
# studies/siamrpn section 18: each tracker's inference settings searched on the
# synthetic validation split (mode=tune, Optuna TPE, 24 trials, 64 val sequences), then
# the best setting evaluated once on the 64 test sequences: does a per-model search
# (what pysot does for every model) close part of the RPN - SiamFC gap?
# Ran after the first_argmax fix (section 18: before it the tunable SiamRPN tracker's
# argmax fell off the map on some frames). W=/work/runs, run from a snapshot.
source studies/siamrpn/results/common.sh  # W, run_eval
# The fix leaves mode=evaluate's boxes as they were: R re-evaluated (0.4652 before).
run_eval $W/rpn_x/R_long_lr3 eval_fix
for run in rpn_x/R_long_lr3 rpn_neg/N_long_lr3_s0 rpn_lr3/C_long_lr3; do
  python -m dsiam_jax.main --config=configs/tune.py --config.checkpoint=$W/$run \
      --config.eval.layout=synthetic --config.eval.split=val --config.eval.test_split=test \
      --config.tune.num_trials=24 --config.backend=jax --workdir=$W/$run/tune
done
python -m studies.siamrpn.compare --out=studies/siamrpn/results/tuned/compare.json \
    --runs="R:0=$W/rpn_x/R_long_lr3/eval,Rt:0=$W/rpn_x/R_long_lr3/tune/test,N:0=$W/rpn_neg/N_long_lr3_s0/eval,Nt:0=$W/rpn_neg/N_long_lr3_s0/tune/test,C:0=$W/rpn_lr3/C_long_lr3/eval,Ct:0=$W/rpn_lr3/C_long_lr3/tune/test" \
    --pairs="Rt-R,Nt-N,Ct-C,Ct-Rt,Ct-Nt"
for r in rpn_x/R_long_lr3:R rpn_neg/N_long_lr3_s0:N rpn_lr3/C_long_lr3:C; do
  cp $W/${r%%:*}/tune/tune.json studies/siamrpn/results/tuned/${r##*:}_tune.json
  cp $W/${r%%:*}/tune/tune_plot.png studies/siamrpn/results/tuned/${r##*:}_tune_plot.png
done
