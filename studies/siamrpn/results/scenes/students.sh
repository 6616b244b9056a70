#!/usr/bin/env bash
# Section 28: the zoo's students (SiamFC and SiamRPN, all trained on the 64 default
# scenes) on the first 64 train scenes and on the 64 test scenes: do the students
# memorise as the RPN teacher does? From the repository root (or a snapshot of it).
source studies/siamrpn/results/common.sh
M=$W/matcher
for split in train test; do
  eval_synthetic $M/eval_students_$split \
      siamfc_student_0,siamfc_student_1,siamrpn_student_0,siamrpn_student_1 $split
done
echo done
