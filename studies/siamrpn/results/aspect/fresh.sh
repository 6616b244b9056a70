#!/usr/bin/env bash
# Section 33, on sequences no choice has looked at: test sequences 64-255 of the synthetic
# test split (sequence i is a pure function of (seed, split, i), so the first 64 of 256
# are the 64 used so far; `compare.py --skip_first=64` leaves them out). The zoo's RPN
# teacher and students with pysot's size update (a100) and aspect_rate=0 (a00), and the
# SiamFC teacher. Resumable.
source studies/siamrpn/results/common.sh
A=$W/aspect
RPN=--config.tracker.siamrpn
N256="--config.eval.max_sequences=256 --config.eval.network_repeats=0"
for m in teacher=siamrpn_teacher s0=siamrpn_student_0 s1=siamrpn_student_1; do
  for r in 0 100; do
    rate=$([ $r = 100 ] && echo 1.0 || echo 0.0)
    eval_synthetic $A/${m%%=*}_test256_a$(printf %02d $r) ${m#*=} test $N256 \
        $RPN.center=upsampled $RPN.aspect_rate=$rate
  done
done
eval_synthetic $A/siamfc_teacher_test256 siamfc_teacher test $N256
OUT=studies/siamrpn/results/aspect
# fresh_*: sequences 64-255 only; all256_*: all 256
for skip in 64 0; do
  pre=$([ $skip = 64 ] && echo fresh || echo all256)
  cmp() { python -m studies.siamrpn.compare --skip_first=$skip "$@"; }
  cmp --runs="a100:0=$A/teacher_test256_a100,a100:1=$A/s0_test256_a100,a100:2=$A/s1_test256_a100,a00:0=$A/teacher_test256_a00,a00:1=$A/s0_test256_a00,a00:2=$A/s1_test256_a00" \
      --pairs=a00-a100 --out=$OUT/${pre}_aspect.json
  cmp --runs="fc:0=$A/siamfc_teacher_test256,a100:0=$A/teacher_test256_a100,a00:0=$A/teacher_test256_a00" \
      --pairs=fc-a100,fc-a00 --worst=5 --out=$OUT/${pre}_teacher_siamfc.json
  cmp --runs="Ta100:0=$A/teacher_test256_a100,Ta100:1=$A/teacher_test256_a100,Sa100:0=$A/s0_test256_a100,Sa100:1=$A/s1_test256_a100,Ta00:0=$A/teacher_test256_a00,Ta00:1=$A/teacher_test256_a00,Sa00:0=$A/s0_test256_a00,Sa00:1=$A/s1_test256_a00" \
      --pairs=Ta100-Sa100,Ta00-Sa00 --worst=5 --out=$OUT/${pre}_students.json
done
python -m studies.siamrpn.box_errors --split=test --out=$OUT/box_errors_256.json \
    --evals=siamfc_teacher=$A/siamfc_teacher_test256$(for m in teacher s0 s1; do
      for v in a100 a00; do echo -n ",${m}_$v=$A/${m}_test256_$v"; done; done)
echo done
