# Sourced by the run scripts under studies/siamrpn/results/: the work folder, the
# compilation cache, run_eval (mode=evaluate on the 64 synthetic test sequences),
# train_and_eval, train_f1k (section 34's F1k with overrides), and N's recipe.
set -euo pipefail
W=${W:-/work/runs}
export JAX_COMPILATION_CACHE_DIR=$W/jaxcache
# The RPN tracker mixes its window with pysot's probabilities, takes the centre from the
# regression and keeps each size update's aspect-ratio change here, the defaults when
# sections 1-23 ran (section 24 made score_map=normalized the default, section 30
# center=upsampled, section 33 aspect_rate=0, section 42 num_scales=3; their runs pass
# them: every evaluation here tracks one crop unless it passes num_scales).
run_eval() {  # workdir [eval folder name, default eval] [config overrides]
  python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$1 \
      --config.eval.layout=synthetic --config.eval.split=test --workdir=$1/${2:-eval} \
      --config.backend=jax --config.tracker.siamrpn.score_map=probability \
      --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0 \
      --config.tracker.siamrpn.num_scales=1 "${@:3}"
}
eval_once() {  # workdir eval-folder [config overrides]: run_eval unless it has an eval.json
  [ -f $1/$2/eval.json ] || run_eval "$@"
}
train_and_eval() {  # workdir training flags...: mode=train / distill (resumes), then run_eval once
  python -m dsiam_jax.main "${@:2}" --workdir=$1
  eval_once $1 eval
}
# N's recipe (sections 16-17; the library's RPN defaults, written out so that a later
# change of default does not change these runs), without widths and run length.
N_RECIPE="--config=configs/siamrpn_teacher.py --config.model.head=depthwise
     --config.train.warmup_steps=50 --config.loss.rpn_rank_weight=1.0
     --config.train.lr_end=1e-3 --config.model.reg_init_scale=0.1
     --config.loss.rpn_neg_pair_radius=3"
# ... at the students' widths (16-32-48-48-32, head 32): the runs N, N_4k, N_8k, D, I.
N_SMALL="$N_RECIPE --config.model.channels=(16,32,48,48,32) --config.model.head_channels=32"
# Sections 27-29: the RPN at the zoo SiamFC teacher's widths (depth-wise head 256) whose
# backbone starts as that SiamFC (section 27's control), without run length ...
FC_BACKBONE_RECIPE="$N_RECIPE --config.model.channels=(96,256,384,384,256)
     --config.model.head_channels=256 --config.model.init_from=siamfc_teacher
     --config.model.final_bn=False --config.train.checkpoint_every=250
     --config.train.max_to_keep=0"
# ... and whose classifier starts as that SiamFC's response too (the matcher start).
MATCHER_RECIPE="$FC_BACKBONE_RECIPE --config.model.rpn_cls_xcorr=True
     --config.model.cls_init_scale=0"
eval_test256() {  # eval workdir, checkpoint [, config overrides]: once, the 256 test
  # sequences (sections 33-34) with the default tracker of sections 33-41
  # (center=upsampled, aspect_rate=0, one crop)
  eval_synthetic $1 $2 test --config.eval.max_sequences=256 --config.eval.network_repeats=0 \
      --config.tracker.siamrpn.center=upsampled --config.tracker.siamrpn.aspect_rate=0.0 "${@:3}"
}
eval_synthetic() {  # eval workdir, checkpoint(s) [, split: test [, config overrides]]: once,
  # default window rule, pysot's centre and size rules and one crop (the defaults until
  # sections 30, 33 and 42: center=upsampled, aspect_rate=0, num_scales=3; a later
  # override wins), the first 64 sequences
  [ -f $1/eval.json ] || python -m dsiam_jax.main --config=configs/evaluate.py \
      --config.checkpoint=$2 --config.eval.layout=synthetic --config.eval.split=${3:-test} \
      --config.eval.max_sequences=64 --workdir=$1 --config.backend=jax \
      --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0 \
      --config.tracker.siamrpn.num_scales=1 "${@:4}"
}
# configs/siamrpn_matcher.py as sections 27-37 ran it: section 38 set its regression
# tower's rate to 10x (train.reg_lr_scale), so their scripts pin the rate they ran with.
MATCHER_CONFIG="--config=configs/siamrpn_matcher.py --config.train.reg_lr_scale=1.0"
train_f1k() {  # folder, name [, config overrides]: section 34's F1k (configs/siamrpn_matcher.py,
  # conv1-3 fixed; 1,000 steps unless STEPS, seed 1 unless SEED) with the overrides, into
  # folder/name, logged to folder/train_name.log (sections 36-37); resumes
  python -m dsiam_jax.main $MATCHER_CONFIG --config.train.num_steps=${STEPS:-1000} \
      --config.train.frozen_convs=3 --config.seed=${SEED:-1} "${@:3}" --workdir=$1/$2 >> $1/train_$2.log 2>&1
}
f1k_part() {  # folder, name, seed [, config overrides]: one part of sections 39-40's runs,
  # skipped when ONLY names another: train_f1k on that seed (STEPS steps, default 1,000),
  # then eval_test256 of its last checkpoint into folder/name_test256 (sections 39-40)
  [ -z "${ONLY:-}" ] || [ "$ONLY" = "$2" ] || return 0
  SEED=$3 train_f1k $1 $2 "${@:4}"
  eval_test256 $1/$2_test256 $1/$2/checkpoints/${STEPS:-1000} > $1/eval_$2.log 2>&1
}
# The evaluations sections 39-40 pair with: the SiamFC teacher's recipe on two seeds
# (sections 35, 37) and section 38's RT10 on seeds 1 and 2 (compare.py's --runs).
FC_RT10_RUNS="fc:1=$W/ema/siamfc_teacher_test256,fc:2=$W/loss_weights/fc600_s1_test256,RT10:1=$W/reg_rate/RT10_test256,RT10:2=$W/reg_rate/RT10_s2_test256"
box_sizes() {  # out folder, evaluations (name=folder,...): where the boxes go wrong
  # (box_errors.py -> out/box_errors.json) and how their sizes move (size_drift.py ->
  # out/size_drift.json) on the test split (sections 41-42)
  PYTHONPATH=. python -m studies.siamrpn.box_errors --split=test --out=$1/box_errors.json \
      --evals="$2"
  PYTHONPATH=. python -m studies.siamrpn.size_drift --split=test --out=$1/size_drift.json \
      --evals="$2"
}
