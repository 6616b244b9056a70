#!/usr/bin/env bash
# Rebuilds every model in zoo/ from scratch on the synthetic data (no download):
# the exact commands behind zoo/README.md. Run from the repository root:
#     bash zoo/build.sh                  # everything: about four hours on 2 cores
#     bash zoo/build.sh siamrpn report   # only the named parts (siamfc, siamrpn, report)
# Every training run resumes from its last checkpoint when the script is run again.
set -euo pipefail
RUNS=${RUNS:-runs/zoo}
PARTS=${*:-siamfc siamrpn report}
run() { python -m dsiam_jax.main "$@"; }
part() { [[ " $PARTS " == *" $1 "* ]]; }
for p in $PARTS; do
  case $p in siamfc | siamrpn | report) ;;
    *) echo "error: zoo/build.sh: unknown part '$p' (parts: siamfc, siamrpn, report)" >&2; exit 2 ;;
  esac
done
# Slim checkpoints (architecture + weights, no optimiser state) under their zoo names,
# copied into zoo/. Each carries its int8 check (JAX vs int8 onnxruntime on 64 synthetic
# test sequences), which config.backend=auto reads.
publish() {  # run folder, zoo name prefix ("" keeps the run's model names), zoo names...
  run --config=configs/publish.py --workdir=$RUNS/publish --config.publish.overwrite=True \
      --config.publish.check_sequences=64 --config.checkpoint=$1 --config.publish.prefix=$2
  for name in "${@:3}"; do rm -rf "zoo/$name" && cp -r "$RUNS/publish/$name" "zoo/$name"; done
}

# SiamFC: the AlexNet teacher (96-256-384-384-256), then two 24-64-96-96-64 students
# distilled from it with mutual learning (configs/dstfc.py), 3000 steps with their
# learning rate decaying only to 1e-3 (studies/distillation/README.md section 8: the gap
# to the teacher was 0.049 after 500 steps, 0.032 after 1500, 0.026 after 3000).
if part siamfc; then
  run --config=configs/siamfc_teacher.py --workdir=$RUNS/siamfc_teacher \
      --config.train.num_steps=600 --config.train.checkpoint_every=200
  run --config=configs/dstfc.py --config.teacher.checkpoint=$RUNS/siamfc_teacher \
      --workdir=$RUNS/dstfc --config.train.num_steps=3000 --config.train.checkpoint_every=250 \
      --config.train.lr_end=1e-3
  publish $RUNS/siamfc_teacher "" siamfc_teacher
  publish $RUNS/dstfc siamfc_ siamfc_student_0 siamfc_student_1
fi

# SiamRPN (studies/siamrpn sections 27-31): the teacher at the SiamFC teacher's widths
# that starts as it (configs/siamrpn_matcher.py: 96-256-384-384-256, depth-wise RPN head
# 256, SiamFC's correlation in the classifier, 25.0 MB; 512 scenes, backbone at a tenth
# of the rate, 2,000 steps; seed 1, section 30's held-out model), then two 24-64-96-96-64
# students with head 32 (1.27 MB, 19.6x smaller), each starting as one of the SiamFC
# students above, distilled from it for 4,000 steps (configs/dstrpn_matcher.py: soft +
# teacher-bounded regression + sharing; section 31).
if part siamrpn; then
  run --config=configs/siamrpn_matcher.py --workdir=$RUNS/siamrpn_teacher --config.seed=1 \
      --config.train.frozen_convs=0 --config.train.reg_lr_scale=1.0  # as shipped (before
      # sections 34 and 38's defaults)
  run --config=configs/dstrpn_matcher.py --config.teacher.checkpoint=$RUNS/siamrpn_teacher \
      --workdir=$RUNS/dstrpn
  publish $RUNS/siamrpn_teacher "" siamrpn_teacher
  publish $RUNS/dstrpn siamrpn_ siamrpn_student_0 siamrpn_student_1
fi

# The numbers in zoo/README.md: all zoo models on the first 16 scenes of the synthetic
# test split, tracked in JAX float32 (the int8 table comes from the publish records).
part report || exit 0
run --config=configs/evaluate.py --workdir=$RUNS/evaluate --config.backend=jax \
    --config.checkpoint=siamfc_teacher,siamfc_student_0,siamfc_student_1,siamrpn_teacher,siamrpn_student_0,siamrpn_student_1 \
    --config.eval.layout=synthetic --config.eval.split=test --config.eval.max_sequences=16

# The tables of zoo/README.md (sizes from the checkpoints, accuracy and speed from
# $RUNS/evaluate/eval.json; compression relative to each kind's teacher).
python - "$RUNS" <<'EOF_TABLE'
import json, sys
from configs import default
from dsiam_jax.jobs import run_report as report

runs = sys.argv[1]
eval_report = json.load(open(f"{runs}/evaluate/eval.json"))
for group in (
    ["siamfc_teacher", "siamfc_student_0", "siamfc_student_1"],
    ["siamrpn_teacher", "siamrpn_student_0", "siamrpn_student_1"],
):
    rows = report.model_rows(group, eval_report, default.get_config().tracker)
    print(report.model_table(rows))
EOF_TABLE
