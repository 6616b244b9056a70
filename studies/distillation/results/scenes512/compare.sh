#!/usr/bin/env bash
# Section 13's paired comparisons (64 test sequences) -> compare.json / compare.md here,
# from run.sh's evaluations copied into evals/ and the SiamRPN study's evaluations of
# the zoo's models (its section 28: the zoo teacher and students on both splits).
# The two distilled students of a run are its "seeds" 0 and 1, so a pair against them
# is the students' mean; a single model (teacher, scratch student) is given as both
# seeds so that its pairs with the students are against that mean too.
# Run from the repository root.
set -euo pipefail
H=studies/distillation/results/scenes512
E=$H/evals
Z=studies/siamrpn/results/scenes/evals
M=studies/siamrpn/results/matcher/evals
both() { echo "$1:0=$2,$1:1=$2"; }
students() { echo "$1:0=$2#student_0,$1:1=$2#student_1"; }
zoo() { echo "$1:0=$2#siamfc_student_0,$1:1=$2#siamfc_student_1"; }
RUNS="$(both FC "$M/eval_zoo#siamfc_teacher"),$(zoo D64 $Z/eval_students_test)"
for s in 1500 3000; do
  RUNS="$RUNS,$(students D512_$s $E/eval_distill_$s),$(both S512_$s $E/eval_scratch_$s)"
  RUNS="$RUNS,$(both S64_$s $E/eval_scratch64_$s)"
done
python -m studies.siamrpn.compare --out=$H/compare.json --runs="$RUNS" \
    --pairs="FC-D64,FC-D512_1500,FC-D512_3000,D512_3000-D64,D512_3000-D512_1500,D512_1500-S512_1500,D512_3000-S512_3000,D64-S64_3000,S512_3000-S64_3000"
# On the first 64 train scenes (the 64-scene runs trained on exactly these).
RUNS="$(both FC "$Z/eval_train_zoo#siamfc_teacher"),$(zoo D64 $Z/eval_students_train)"
RUNS="$RUNS,$(students D512 $E/eval_train_distill_3000)"
python -m studies.siamrpn.compare --out=$H/compare_train.json --runs="$RUNS" \
    --pairs="FC-D64,FC-D512,D512-D64"
