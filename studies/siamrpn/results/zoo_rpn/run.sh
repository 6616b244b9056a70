#!/usr/bin/env bash
# studies/siamrpn section 25: the zoo's SiamRPN models, rebuilt by zoo/build.sh's siamrpn
# part (teacher 48-128-192-192-128 with head 128, 3000 steps; two 16-32-48-48-24 students
# with head 24, 18.1x smaller, distilled for 2000 steps), against the same student
# trained from scratch on the teacher's recipe for 2000 steps (only the losses differ).
# Each is evaluated on the 64 synthetic test sequences with SiamFC's window rule (the
# default, score_map=normalized) and with pysot's (probability), and compared in pairs.
# W=/work/runs; run from a snapshot of the repository after
#     RUNS=$W/zoo bash zoo/build.sh siamrpn
# Resumable: rerunning skips what is done.
source studies/siamrpn/results/common.sh  # W, N_RECIPE, run_eval, eval_once
Z=$W/zoo
E=$Z/eval
OUT=studies/siamrpn/results/zoo_rpn
scratch() {  # workdir seed: the 18.1x student from scratch on N's recipe, 2000 steps
  python -m dsiam_jax.main $N_RECIPE --workdir=$1 --config.train.num_steps=2000 \
      --config.model.channels="(16,32,48,48,24)" --config.model.head_channels=24 \
      --config.train.checkpoint_every=250 --config.seed=$2
}
evaluate() {  # checkpoint eval-folder: mode=evaluate once per window rule in RULES
  for rule in ${RULES:-normalized probability}; do
    [ -f $2_$rule/eval.json ] || python -m dsiam_jax.main --config=configs/evaluate.py \
        --config.checkpoint=$1 --config.eval.layout=synthetic --config.eval.split=test \
        --config.backend=jax --config.tracker.siamrpn.score_map=$rule --workdir=$2_$rule \
        --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0
  done
}
scratch $Z/scratch_rpn 0
evaluate $Z/siamrpn_teacher $E/teacher
evaluate $Z/publish/siamrpn_student_0 $E/student_0
evaluate $Z/publish/siamrpn_student_1 $E/student_1
evaluate $Z/scratch_rpn $E/scratch
for rule in normalized probability; do
  python -m studies.siamrpn.compare --out=$OUT/zoo_$rule.json \
      --runs="T:0=$E/teacher_$rule,D0:0=$E/student_0_$rule,D1:0=$E/student_1_$rule,S:0=$E/scratch_$rule" \
      --pairs="T-D0,T-D1,D0-S,D1-S,T-S"
done

# A second seed (config.seed=1: initialisation and pair order) of the distilled students,
# with zoo/build.sh's distillation command, and of the scratch student; default rule only.
python -m dsiam_jax.main --config=configs/dstrpn.py --config.teacher.checkpoint=$Z/siamrpn_teacher \
    --workdir=$Z/dstrpn_s1 --config.train.warmup_steps=50 --config.train.lr_start=5e-3 \
    --config.train.lr_end=1e-3 --config.train.weight_decay=1e-4 \
    --config.train.checkpoint_every=250 --config.distill.student_head_channels=24 \
    --config.distill.students="((16,32,48,48,24),(16,32,48,48,24))" \
    --config.train.num_steps=2000 --config.seed=1
scratch $Z/scratch_rpn_s1 1
RULES=normalized evaluate $Z/dstrpn_s1 $E/dstrpn_s1  # its eval.json holds both students
RULES=normalized evaluate $Z/scratch_rpn_s1 $E/scratch_rpn_s1
python -m studies.siamrpn.compare --out=$OUT/zoo_seeds_normalized.json \
    --runs="D:0=$E/student_0_normalized,D:1=$E/student_1_normalized,D:2=$E/dstrpn_s1_normalized#student_0,D:3=$E/dstrpn_s1_normalized#student_1,S:0=$E/scratch_normalized,S:1=$E/scratch_normalized,S:2=$E/scratch_rpn_s1_normalized,S:3=$E/scratch_rpn_s1_normalized" \
    --pairs="D-S"
