#!/usr/bin/env bash
# Rebuilds every model in zoo/ from scratch on the synthetic data (no download):
# the exact commands behind zoo/README.md. Run from the repository root:
#     bash zoo/build.sh            # about two and a half hours on a 2-core CPU
set -euo pipefail
RUNS=${RUNS:-runs/zoo}
run() { python -m dsiam_jax.main "$@"; }

# SiamFC: the AlexNet teacher (96-256-384-384-256), then two 24-64-96-96-64 students
# distilled from it with mutual learning (configs/dstfc.py), 3000 steps with their
# learning rate decaying only to 1e-3 (studies/distillation/README.md section 8: the gap
# to the teacher was 0.049 after 500 steps, 0.032 after 1500, 0.026 after 3000).
run --config=configs/siamfc_teacher.py --workdir=$RUNS/siamfc_teacher \
    --config.train.num_steps=600 --config.train.checkpoint_every=200
run --config=configs/dstfc.py --config.teacher.checkpoint=$RUNS/siamfc_teacher \
    --workdir=$RUNS/dstfc --config.train.num_steps=3000 --config.train.checkpoint_every=250 \
    --config.train.lr_end=1e-3

# SiamRPN: a teacher this CPU can train (48-128-192-192-128 with the depth-wise RPN
# head of width 128, as pysot's siamrpn_alex_dwxcorr; chosen when the up-channel head
# did not train), then two 16-32-48-48-32 students (head width 32) distilled from it.
run --config=configs/siamrpn_teacher.py --workdir=$RUNS/siamrpn_teacher \
    --config.model.channels="(48,128,192,192,128)" --config.model.head=depthwise \
    --config.model.head_channels=128 \
    --config.train.num_steps=600 --config.train.warmup_steps=100 --config.train.checkpoint_every=200
run --config=configs/dstrpn.py --config.teacher.checkpoint=$RUNS/siamrpn_teacher \
    --workdir=$RUNS/dstrpn --config.distill.students="((16,32,48,48,32),(16,32,48,48,32))" \
    --config.distill.student_head_channels=32 --config.train.num_steps=500 \
    --config.train.warmup_steps=100 --config.train.checkpoint_every=250

# Slim checkpoints (architecture + weights, no optimiser state) under their zoo names.
# The zoo keeps the SiamFC teacher and the students; the SiamRPN teacher stays in $RUNS.
# Each carries its int8 check (JAX vs int8 onnxruntime on 64 synthetic test sequences),
# which config.backend=auto reads.
run --config=configs/publish.py --workdir=$RUNS/publish --config.publish.overwrite=True \
    --config.publish.check_sequences=64 \
    --config.checkpoint=$RUNS/siamfc_teacher
run --config=configs/publish.py --workdir=$RUNS/publish --config.publish.overwrite=True \
    --config.publish.check_sequences=64 \
    --config.checkpoint=$RUNS/dstfc --config.publish.prefix=siamfc_
run --config=configs/publish.py --workdir=$RUNS/publish --config.publish.overwrite=True \
    --config.publish.check_sequences=64 \
    --config.checkpoint=$RUNS/dstrpn --config.publish.prefix=siamrpn_
for name in siamfc_teacher siamfc_student_0 siamfc_student_1 siamrpn_student_0 siamrpn_student_1; do
  rm -rf "zoo/$name" && cp -r "$RUNS/publish/$name" "zoo/$name"
done

# The numbers in zoo/README.md: all zoo models (and the SiamRPN teacher, for reference)
# on the first 16 scenes of the synthetic test split, tracked in JAX float32 (the int8
# table comes from the publish records above).
run --config=configs/evaluate.py --workdir=$RUNS/evaluate --config.backend=jax \
    --config.checkpoint=siamfc_teacher,siamfc_student_0,siamfc_student_1,$RUNS/siamrpn_teacher,siamrpn_student_0,siamrpn_student_1 \
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
    [f"{runs}/siamrpn_teacher", "siamrpn_student_0", "siamrpn_student_1"],
):
    rows = report.model_rows(group, eval_report, default.get_config().tracker)
    print(report.model_table(rows))
EOF_TABLE
