#!/usr/bin/env bash
# Section 42: section 41's scale pyramid (tracker.siamrpn.num_scales=3, SiamFC's step and
# penalty) on the zoo's three SiamRPN models, which took no part in choosing it: each
# tracked with one crop and with three on the 256 synthetic test sequences (default
# tracker otherwise), and the zoo's SiamFC teacher beside them. Two streams run side by
# side (STREAM=a: the RPN teacher's pyramid; STREAM=b: the rest; default both, one after
# the other). Resumable: rerun the same command.
source studies/siamrpn/results/common.sh
Z=$W/zoo_pyramid
mkdir -p $Z
RPN=--config.tracker.siamrpn
part() {  # name checkpoint num_scales
  eval_test256 $Z/$1_P$3_test256 $2 $RPN.num_scales=$3 > $Z/eval_$1_P$3.log 2>&1
}
if [ "${STREAM:-a}" = a ]; then
  part teacher siamrpn_teacher 3
fi
if [ "${STREAM:-b}" = b ]; then
  part teacher siamrpn_teacher 1
  eval_test256 $Z/siamfc_teacher_test256 siamfc_teacher > $Z/eval_siamfc_teacher.log 2>&1
  for s in 0 1; do
    part s$s siamrpn_student_$s 1
    part s$s siamrpn_student_$s 3
  done
fi
echo done
