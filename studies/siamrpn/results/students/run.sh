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
from_d_cache() {  # run name, last step, overrides: configs/dstrpn_matcher.py reading D's
  # cache of the teacher's maps (only the students run where it has them), then evaluated
  python -m dsiam_jax.main --config=configs/dstrpn_matcher.py \
      --config.teacher.checkpoint=$TEACHER --config.distill.teacher_cache=$S/D/teacher_cache \
      --workdir=$S/$1 "${@:3}"
  eval_synthetic $S/$1_test $S/$1/checkpoints/$2 test $center
}
# configs/siamrpn_matcher.py is long.sh's SL2K recipe as a config file, and
# configs/dstrpn_matcher.py its students with configs/dstrpn.py's losses.
if [ $PART = all ] || [ $PART = distill ]; then
  python -m dsiam_jax.main --config=configs/dstrpn_matcher.py \
      --config.teacher.checkpoint=$TEACHER --workdir=$S/D
fi
if [ $PART = all ] || [ $PART = scratch ]; then
  python -m dsiam_jax.main --config=configs/siamrpn_matcher.py \
      --config.model.channels="(24,64,96,96,64)" --config.model.head_channels=32 \
      --config.model.init_from=siamfc_student_0 --config.train.model_name=student_0 \
      --config.train.model_role=student --workdir=$S/S
fi
if [ $PART = all ] || [ $PART = random ]; then
  from_d_cache R 2000 --config.model.init_from=
fi
if [ $PART = long ]; then  # next: D on a 4,000-step schedule (its first 2,000 steps' teacher maps are D's)
  from_d_cache D4k 4000 --config.train.num_steps=4000
  python -m studies.siamrpn.compare \
      --runs="T:0=$W/upsampled/SL2k_s1_test_up42,T:1=$W/upsampled/SL2k_s1_test_up42,D:0=$S/D_test#student_0,D:1=$S/D_test#student_1,L:0=$S/D4k_test#student_0,L:1=$S/D4k_test#student_1" \
      --pairs=T-L,L-D --worst=5 --out=studies/siamrpn/results/students/compare_long.json
fi
if [ $PART = long6k ]; then  # 6,000 steps (the maps of steps 0-3,999 from D's and D4k's runs)
  from_d_cache D6k 6000 --config.train.num_steps=6000
  python -m studies.siamrpn.compare \
      --runs="T:0=$W/upsampled/SL2k_s1_test_up42,T:1=$W/upsampled/SL2k_s1_test_up42,L:0=$S/D4k_test#student_0,L:1=$S/D4k_test#student_1,X:0=$S/D6k_test#student_0,X:1=$S/D6k_test#student_1" \
      --pairs=T-X,X-L --out=studies/siamrpn/results/students/compare_long6k.json
fi
if [ $PART = beta1 ]; then  # next: D without background suppression (beta = 1: every
  # anchor's KL counts fully, the teacher's low scores on distractors included)
  from_d_cache Db1 2000 --config.distill.beta=1.0
  python -m studies.siamrpn.compare \
      --runs="T:0=$W/upsampled/SL2k_s1_test_up42,T:1=$W/upsampled/SL2k_s1_test_up42,D:0=$S/D_test#student_0,D:1=$S/D_test#student_1,B:0=$S/Db1_test#student_0,B:1=$S/Db1_test#student_1" \
      --pairs=T-B,B-D --out=studies/siamrpn/results/students/compare_beta1.json
fi
if [ $PART = spatial ]; then  # next: D with the spatial soft loss (SiamFC's default)
  from_d_cache Dsp 2000 --config.distill.soft_form=spatial
  python -m studies.siamrpn.compare \
      --runs="T:0=$W/upsampled/SL2k_s1_test_up42,T:1=$W/upsampled/SL2k_s1_test_up42,D:0=$S/D_test#student_0,D:1=$S/D_test#student_1,Dsp:0=$S/Dsp_test#student_0,Dsp:1=$S/Dsp_test#student_1" \
      --pairs=T-Dsp,Dsp-D --out=studies/siamrpn/results/students/compare_spatial.json
fi
if [ $PART = all ] || [ $PART = evals ]; then
  eval_synthetic $S/D_test $S/D/checkpoints/2000 test $center
  eval_synthetic $S/S_test $S/S/checkpoints/2000 test $center
  python -m studies.siamrpn.compare \
      --runs="T:0=$W/upsampled/SL2k_s1_test_up42,T:1=$W/upsampled/SL2k_s1_test_up42,D:0=$S/D_test#student_0,D:1=$S/D_test#student_1,S:0=$S/S_test,R:0=$S/R_test#student_0,R:1=$S/R_test#student_1" \
      --pairs=T-D,D-S,D-R --out=studies/siamrpn/results/students/compare_test.json
fi
echo done
