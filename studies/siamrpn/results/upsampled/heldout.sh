#!/usr/bin/env bash
# Section 30, held-out model: SL2k seed 1 (section 29's recipe, `SEED=1 bash
# studies/siamrpn/results/scenes/long.sh` first), which took no part in choosing the
# rule: center=upsampled against the default on the 64 test sequences, then hybrid.py
# on the first 32: its own classifier and the SiamFC teacher's map under the RPN rule
# (upsampled, window 0.42) and under SiamFC's (upsampled, window 0.176, size learning
# rate 0.1). PART=evals or PART=hybrid runs one half (they may run side by side).
source studies/siamrpn/results/common.sh
M=$W/matcher
U=$W/upsampled
CK=$M/SL2k_s1/checkpoints/2000
PART=${PART:-all}
if [ $PART != hybrid ]; then
  eval_synthetic $M/eval_SL2k_s1_2000 $CK  # the default rule, as long.sh evaluates it
  mkdir -p $U
  [ -e $U/SL2k_s1_test_reg ] || ln -s $M/eval_SL2k_s1_2000 $U/SL2k_s1_test_reg
  MODELS="SL2k_s1=$CK" SPLITS=test VARIANTS=up42 COMPARE=compare_SL2k_s1 \
      bash studies/siamrpn/results/upsampled/run.sh
  eval_synthetic $U/siamfc_teacher_test siamfc_teacher  # also hybrid.sh's
  python -m studies.siamrpn.compare --pairs=fc-up,fc-reg \
      --runs=fc:0=$U/siamfc_teacher_test,up:0=$U/SL2k_s1_test_up42,reg:0=$U/SL2k_s1_test_reg \
      --out=studies/siamrpn/results/upsampled/compare_SL2k_s1_siamfc.json
fi
if [ $PART != evals ]; then
  H="python -m studies.siamrpn.hybrid --models=$CK --sequences=32 --siamfc=siamfc_teacher
     --variants=trained,siamfc --center=upsampled
     --out=studies/siamrpn/results/upsampled/hybrid_SL2k_s1.json"
  $H
  $H --settings=window_influence=0.176,lr=0.1
fi
echo done
