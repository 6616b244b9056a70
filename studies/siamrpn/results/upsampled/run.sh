#!/usr/bin/env bash
# Section 30: SiamFC's upsampled-peak rule in the RPN tracker (tracker.siamrpn.center=
# upsampled) against pysot's regression centre. Choice on the 64 validation sequences
# with the zoo's three RPN models; then the test split for them and for held-out models
# (MODELS="label=checkpoint ..." adds more). Variants: reg (the defaults before this
# section: centre from the regression), upNN (center=upsampled, window influence 0.NN),
# lrNN (size learning rate 0.NN), joined by '+'. Resumable.
source studies/siamrpn/results/common.sh
U=$W/upsampled
RPN=--config.tracker.siamrpn
ZOO="teacher=siamrpn_teacher s0=siamrpn_student_0 s1=siamrpn_student_1"
SPLITS=${SPLITS:-val}
VARIANTS=${VARIANTS:-"up42 up30 up20"}  # each against reg (the defaults, always run)
flags() {  # variant -> overrides; tokens joined by '+' (e.g. up42+lr10) combine
  for t in ${1//+/ }; do
    case $t in
      reg) ;;  # pysot's rule, the default until this section (eval_synthetic's)
      up*) echo "$RPN.center=upsampled $RPN.window_influence=0.${t#up}" ;;
      lr*) echo "$RPN.lr=0.${t#lr}" ;;  # the size learning rate (default 0.295)
    esac
  done
}
for split in $SPLITS; do
  for m in ${MODELS:-$ZOO}; do
    for v in reg $VARIANTS; do
      d=$U/${m%%=*}_${split}_$v
      eval_synthetic $d ${m#*=} $split --config.eval.network_repeats=0 $(flags $v)
    done
  done
done
# Paired over sequences, models as seeds (their mean per sequence): each variant - reg.
OUT=studies/siamrpn/results/upsampled
for split in $SPLITS; do
  runs="" pairs=""
  for v in reg $VARIANTS; do
    i=0
    for m in ${MODELS:-$ZOO}; do
      d=$U/${m%%=*}_${split}_$v
      [ -f $d/eval.json ] && runs="$runs,$v:$i=$d"
      i=$((i + 1))
    done
    [ $v = reg ] || pairs="$pairs,$v-reg"
  done
  python -m studies.siamrpn.compare --runs="${runs#,}" --pairs="${pairs#,}" \
      --out=$OUT/${COMPARE:-compare}_$split.json
done
echo done
