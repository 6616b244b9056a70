#!/usr/bin/env bash
# Section 42 (after run.sh and ../scale_pyramid/seed3.sh): the scale pyramid (P3) against
# one crop (P1) on the zoo's three RPN models and on RT10 seed 3, each against the zoo's
# SiamFC teacher, and the zoo's students against their teacher on each tracker; where the
# boxes go wrong (box_errors.py) and how their sizes move (size_drift.py). Writes
# compare.json / .md, students.json / .md, box_errors.json and size_drift.json here.
source studies/siamrpn/results/common.sh
Z=$W/zoo_pyramid
S=$W/scale_pyramid/RT10_s3_P3_test256
OUT=studies/siamrpn/results/zoo_pyramid
runs="fc:0=$Z/siamfc_teacher_test256"
for p in 1 3; do
  runs="$runs,T$p:0=$Z/teacher_P${p}_test256,S$p:0=$Z/s0_P${p}_test256,S$p:1=$Z/s1_P${p}_test256"
done
runs="$runs,RT10s3_P1:0=$W/reg_rate/RT10_s3_test256,RT10s3_P3:0=$S"
python -m studies.siamrpn.compare --runs="$runs" --out=$OUT/compare.json \
    --pairs=T3-T1,S3-S1,T1-fc,T3-fc,RT10s3_P3-RT10s3_P1,RT10s3_P1-fc,RT10s3_P3-fc
# the students against their teacher (the teacher's evaluation on both "seeds")
python -m studies.siamrpn.compare --out=$OUT/students.json --worst=5 --pairs=T1-S1,T3-S3 \
    --runs="$(for p in 1 3; do for i in 0 1; do
      echo -n "T$p:$i=$Z/teacher_P${p}_test256,S$p:$i=$Z/s${i}_P${p}_test256,"; done; done)"
EVALS="siamfc_teacher=$Z/siamfc_teacher_test256"
for m in teacher s0 s1; do EVALS="$EVALS,${m}_P1=$Z/${m}_P1_test256,${m}_P3=$Z/${m}_P3_test256"; done
EVALS="$EVALS,RT10_s3_P1=$W/reg_rate/RT10_s3_test256,RT10_s3_P3=$S"
box_sizes $OUT "$EVALS"
echo done
