#!/usr/bin/env bash
# Section 30: the zoo SiamFC teacher's response as the RPN's classifier (hybrid.py's
# siamfc variant, the RPN's own regression) under the RPN tracker's centre rules, and
# that SiamFC in its own tracker, on the first 32 test sequences. MODEL: the RPN whose
# regression is used (default the zoo's RPN teacher); OUT: the result file.
source studies/siamrpn/results/common.sh
U=$W/upsampled
MODEL=${MODEL:-siamrpn_teacher}
OUT=${OUT:-studies/siamrpn/results/upsampled/hybrid_zoo_teacher.json}
eval_synthetic $U/siamfc_teacher_test siamfc_teacher
H="python -m studies.siamrpn.hybrid --models=$MODEL --sequences=32 --out=$OUT"
$H --variants=siamfc,trained --siamfc=siamfc_teacher --evals=siamfc_teacher=$U/siamfc_teacher_test
$H --variants=siamfc,trained --siamfc=siamfc_teacher --center=upsampled
$H --variants=siamfc,trained --siamfc=siamfc_teacher --center=upsampled --settings=window_influence=0.176
# the size learning rate under SiamFC's map and window (default 0.295)
for lr in 0.1 0.0; do
  $H --variants=siamfc --siamfc=siamfc_teacher --center=upsampled \
      --settings=window_influence=0.176,lr=$lr
done
echo done
