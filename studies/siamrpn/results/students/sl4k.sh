#!/usr/bin/env bash
# Section 32 (planned, started 2026-12-03 h): the RPN teacher on a 4,000-step schedule
# (SL4k seed 1: section 29's recipe, as long.sh runs it with STEPS=4000), then D4k's
# student recipe distilled from it. Issue 14's two open targets: a RPN teacher at least
# as good as the SiamFC teacher (SL2k seed 1 was 0.024 +- 0.021 below it), and students
# within 0.03 of that teacher. Resumable: rerun; each part skips what is done. The
# default tracker of section 33 (center=upsampled, aspect_rate=0); L-T compares SL4k
# with SL2k seed 1 (the zoo's teacher) under it (results/aspect/run.sh, SPLITS=test).
# PART=teacher | students | all (default).
source studies/siamrpn/results/common.sh
S=$W/students
U=$W/upsampled
TEACHER=$W/matcher/SL4k_s1/checkpoints/4000
PART=${PART:-all}
if [ $PART != students ]; then
  # SL4k seed 1 and its evaluations (the last one with center=upsampled into $U/SL4k_s1_test)
  SEED=1 STEPS=4000 bash studies/siamrpn/results/scenes/long.sh
  eval_synthetic $U/siamfc_teacher_test siamfc_teacher  # section 30's (heldout.sh)
  python -m studies.siamrpn.compare --pairs=fc-L,L-T \
      --runs=fc:0=$U/siamfc_teacher_test,L:0=$U/SL4k_s1_test,T:0=$W/aspect/teacher_test_a00 \
      --out=studies/siamrpn/results/students/compare_sl4k_teacher.json
fi
if [ $PART != teacher ]; then
  # configs/dstrpn_matcher.py (D4k's recipe, 4,000 steps) from SL4k; its own teacher cache
  python -m dsiam_jax.main --config=configs/dstrpn_matcher.py \
      --config.teacher.checkpoint=$TEACHER --workdir=$S/E4k
  eval_synthetic $S/E4k_test $S/E4k/checkpoints/4000 test \
      --config.tracker.siamrpn.center=upsampled --config.tracker.siamrpn.aspect_rate=0.0
  python -m studies.siamrpn.compare --pairs=T-E --worst=5 \
      --runs=T:0=$U/SL4k_s1_test,T:1=$U/SL4k_s1_test,E:0=$S/E4k_test#student_0,E:1=$S/E4k_test#student_1 \
      --out=studies/siamrpn/results/students/compare_sl4k_students.json
fi
echo done
