#!/usr/bin/env bash
# Section 31: two DSTrpn students distilled from SL2k seed 1 (section 30's held-out
# teacher, 96-256-384-384-256, 25.0 MB; `SEED=1 bash studies/siamrpn/results/scenes/long.sh`
# first), each starting as one of the zoo's SiamFC students (24-64-96-96-64; the matcher
# start of section 27 at the students' widths: `model.init_from` with one source per
# student), depth-wise head 32: 1.27 MB, 19.6x smaller. The teacher's recipe (512 scenes,
# backbone at a tenth of the rate, 2,000 steps) with configs/dstrpn.py's losses
# (configs/dstrpn_matcher.py). Controls: student 0's network and start trained
# on the labels alone (mode=train, S), and the two students distilled from random weights
# (no init_from, R; it reads D's cache of the teacher's maps, so only the students run).
# All evaluated with the default tracker (center=upsampled) on the 64 test sequences and
# compared, paired, with the teacher's evaluation of section 30 (T:0 and T:1 pair it with
# each student). Resumable: rerun.
# PART=distill | scratch | random | evals runs one part (scratch and random may run side
# by side; random after distill, whose teacher cache it reads). Not in all, run after D
# (each reads D's cache): PART=long (D4k: D on a 4,000-step schedule), long6k (D6k:
# 6,000 steps), spatial (Dsp: the spatial soft loss, one softmax over all anchors'
# foreground log-odds) and beta1 (Db1: the pointwise soft loss without background
# suppression, distill.beta=1).
source studies/siamrpn/results/common.sh
S=$W/students
TEACHER=$W/matcher/SL2k_s1/checkpoints/2000
PART=${PART:-all}
center=--config.tracker.siamrpn.center=upsampled  # common.sh pins pysot's rule
from_d_cache() {  # run name, steps, overrides: configs/dstrpn_matcher.py on a schedule of
  # that many steps reading D's cache of the teacher's maps (only the students run where
  # it has them), then evaluated
  python -m dsiam_jax.main --config=configs/dstrpn_matcher.py \
      --config.teacher.checkpoint=$TEACHER --config.distill.teacher_cache=$S/D/teacher_cache \
      --config.train.num_steps=$2 --workdir=$S/$1 "${@:3}"
  eval_synthetic $S/$1_test $S/$1/checkpoints/$2 test $center
}
# compare.py's runs: the teacher's evaluation paired with each student (T:0, T:1), and
# students() VARIANT RUN: both students of RUN's evaluation
TEACHER_RUNS="T:0=$W/upsampled/SL2k_s1_test_up42,T:1=$W/upsampled/SL2k_s1_test_up42"
students() { echo "$1:0=$S/$2_test#student_0,$1:1=$S/$2_test#student_1"; }
compare() {  # result name, pairs, runs... (--flags among them go to compare.py as they
  # are): studies.siamrpn.compare into results/students/<name>.json and .md
  local runs=() flags=()
  for a in "${@:3}"; do [[ $a == --* ]] && flags+=("$a") || runs+=("$a"); done
  python -m studies.siamrpn.compare --runs="$(IFS=,; echo "${runs[*]}")" --pairs=$2 \
      "${flags[@]}" --out=studies/siamrpn/results/students/$1.json
}
# configs/siamrpn_matcher.py is long.sh's SL2K recipe as a config file, and
# configs/dstrpn_matcher.py its students with configs/dstrpn.py's losses (4,000 steps
# since D4k; D ran 2,000).
if [ $PART = all ] || [ $PART = distill ]; then
  python -m dsiam_jax.main --config=configs/dstrpn_matcher.py \
      --config.teacher.checkpoint=$TEACHER --config.train.num_steps=2000 --workdir=$S/D
fi
if [ $PART = all ] || [ $PART = scratch ]; then
  python -m dsiam_jax.main $MATCHER_CONFIG --config.train.frozen_convs=0 \
      --config.model.channels="(24,64,96,96,64)" --config.model.head_channels=32 \
      --config.model.init_from=siamfc_student_0 --config.train.model_name=student_0 \
      --config.train.model_role=student --workdir=$S/S
fi
if [ $PART = all ] || [ $PART = random ]; then
  from_d_cache R 2000 --config.model.init_from=
fi
if [ $PART = long ]; then  # next: D on a 4,000-step schedule (its first 2,000 steps' teacher maps are D's)
  from_d_cache D4k 4000
  compare compare_long T-L,L-D --worst=5 $TEACHER_RUNS $(students D D) $(students L D4k)
fi
if [ $PART = long6k ]; then  # 6,000 steps (the maps of steps 0-3,999 from D's and D4k's runs)
  from_d_cache D6k 6000
  compare compare_long6k T-X,X-L $TEACHER_RUNS $(students L D4k) $(students X D6k)
fi
if [ $PART = beta1 ]; then  # next: D without background suppression (beta = 1: every
  # anchor's KL counts fully, the teacher's low scores on distractors included)
  from_d_cache Db1 2000 --config.distill.beta=1.0
  compare compare_beta1 T-B,B-D $TEACHER_RUNS $(students D D) $(students B Db1)
fi
if [ $PART = spatial ]; then  # next: D with the spatial soft loss (SiamFC's default)
  from_d_cache Dsp 2000 --config.distill.soft_form=spatial
  compare compare_spatial T-Dsp,Dsp-D $TEACHER_RUNS $(students D D) $(students Dsp Dsp)
fi
if [ $PART = all ] || [ $PART = evals ]; then
  eval_synthetic $S/D_test $S/D/checkpoints/2000 test $center
  eval_synthetic $S/S_test $S/S/checkpoints/2000 test $center
  compare compare_test T-D,D-S,D-R $TEACHER_RUNS $(students D D) S:0=$S/S_test $(students R R)
fi
echo done
