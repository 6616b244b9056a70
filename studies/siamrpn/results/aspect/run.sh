#!/usr/bin/env bash
# Section 33: the RPN tracker's aspect-ratio damping (tracker.siamrpn.aspect_rate: the
# share of the size update's aspect-ratio change kept; 1 = pysot, 0 = the first frame's
# aspect ratio, as SiamFC keeps it). Choice on the 64 validation sequences with the zoo's
# three RPN models (SPLITS=val), then the test split (SPLITS=test) for them, compared
# with the default (a100) and, for the teacher, with the zoo's SiamFC teacher. Default
# tracker otherwise (center=upsampled, window 0.42). Variants aNN = aspect_rate 0.NN
# (a100 = 1.0), lNN = the size learning rate 0.NN (default 0.295), joined by '+'
# (a00+l15). Resumable.
source studies/siamrpn/results/common.sh
A=$W/aspect
RPN=--config.tracker.siamrpn
ZOO="teacher=siamrpn_teacher s0=siamrpn_student_0 s1=siamrpn_student_1"
SPLITS=${SPLITS:-val}
VARIANTS=${VARIANTS:-"a00 a25 a50"}  # each against a100 (the default, always run)
flags() {  # variant -> overrides; tokens joined by '+' combine
  for t in ${1//+/ }; do
    case $t in
      a100) echo "$RPN.aspect_rate=1.0" ;;
      a*) echo "$RPN.aspect_rate=0.${t#a}" ;;
      l*) echo "$RPN.lr=0.${t#l}" ;;
    esac
  done
}
for split in $SPLITS; do
  for m in ${MODELS:-$ZOO}; do
    for v in a100 $VARIANTS; do
      eval_synthetic $A/${m%%=*}_${split}_$v ${m#*=} $split --config.eval.network_repeats=0 \
          $RPN.center=upsampled $(flags $v)
    done
  done
  [ $split = test ] && eval_synthetic $A/siamfc_teacher_test siamfc_teacher test \
      --config.eval.network_repeats=0
done
# Paired over sequences, models as seeds (their mean per sequence): each variant - a100
# (a combination also - its first token);
# on the test split also the SiamFC teacher - each variant of the RPN teacher.
OUT=studies/siamrpn/results/aspect
for split in $SPLITS; do
  runs="" pairs=""
  for v in a100 $VARIANTS; do
    i=0
    for m in ${MODELS:-$ZOO}; do
      d=$A/${m%%=*}_${split}_$v
      [ -f $d/eval.json ] && runs="$runs,$v:$i=$d"
      i=$((i + 1))
    done
    [ $v = a100 ] || pairs="$pairs,$v-a100"
    [ $v = ${v%%+*} ] || pairs="$pairs,$v-${v%%+*}"  # a combination against its first token
  done
  python -m studies.siamrpn.compare --runs="${runs#,}" --pairs="${pairs#,}" \
      --out=$OUT/compare_$split.json
  if [ $split = test ]; then
    runs="fc:0=$A/siamfc_teacher_test" pairs=""
    for v in a100 $VARIANTS; do
      runs="$runs,$v:0=$A/teacher_test_$v" pairs="$pairs,fc-$v"
    done
    python -m studies.siamrpn.compare --runs="$runs" --pairs="${pairs#,}" --worst=5 \
        --out=$OUT/compare_teacher_siamfc.json
    # the zoo's two students against their teacher, each variant on both (issue 14: <= 0.03)
    runs="" pairs=""
    for v in a100 $VARIANTS; do
      runs="$runs,T$v:0=$A/teacher_test_$v,T$v:1=$A/teacher_test_$v"
      runs="$runs,S$v:0=$A/s0_test_$v,S$v:1=$A/s1_test_$v" pairs="$pairs,T$v-S$v"
    done
    python -m studies.siamrpn.compare --runs="${runs#,}" --pairs="${pairs#,}" --worst=5 \
        --out=$OUT/compare_students.json
    python -m studies.siamrpn.box_errors --split=test --out=$OUT/box_errors.json \
        --evals=siamfc_teacher=$A/siamfc_teacher_test$(for m in teacher s0 s1; do
          for v in a100 $VARIANTS; do echo -n ",${m}_$v=$A/${m}_test_$v"; done; done)
  fi
done
echo done
