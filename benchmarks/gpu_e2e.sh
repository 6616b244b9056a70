#!/usr/bin/env bash
# The jobs end to end on a machine with JAX alone (the lent GPU machine: no TensorFlow):
# train a SiamFC teacher and distil two students on on-device toy pairs
# (`train.input=toy`, the input that needs no tf.data), then evaluate the students on
# synthetic test sequences (the NumPy reader), and check that TensorBoard event files and
# metrics.jsonl were written. The CLI needs ml_collections and clu, carried as wheels:
#
#   run(command="python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
#       && PYTHONPATH=/tmp/site bash benchmarks/gpu_e2e.sh", carry=[".whl"], timeout_s=200)
#
# STEPS, B (global batch) and N (sequences) size it; STEPS=2 B=4 N=2 is a CPU smoke test.
OUT=${OUT:-/tmp/e2e_out}; mkdir -p $OUT
W=${W:-/tmp/e2e}; rm -rf $W
STEPS=${STEPS:-1000}; B=${B:-64}; N=${N:-16}
run() {
  echo "== $*"; local t=$SECONDS
  python3 -m dsiam_jax.main "$@" 2>&1 | grep -E "error|Error|steps/s|wrote|AUC|Traceback" | tail -8
  echo "$((SECONDS - t)) s"
}
run --config=configs/siamfc_teacher.py --config.train.input=toy --config.train.num_steps=$STEPS \
  --config.train.batch_size=$B --config.train.checkpoint_every=$STEPS --workdir=$W/teacher
run --config=configs/dstfc.py --config.teacher.checkpoint=$W/teacher --config.train.input=toy \
  --config.train.num_steps=$STEPS --config.train.batch_size=$B --config.train.checkpoint_every=$STEPS --workdir=$W/students
run --config=configs/evaluate.py --config.checkpoint=$W/students --config.eval.layout=synthetic \
  --config.eval.split=test --config.eval.max_sequences=$N --workdir=$W/eval
ls $W/teacher $W/students | head -30
python3 - "$W" <<'PY' | tee $OUT/e2e_summary.txt
import sys, json, pathlib
w = pathlib.Path(sys.argv[1])
for d in ("teacher", "students"):
    ev = sorted((w / d).glob("events.out.tfevents*"))
    print(d, "event files:", len(ev), "metrics lines:", sum(1 for _ in open(w / d / "metrics.jsonl")))
e = json.loads((w / "eval" / "eval.json").read_text())
print(json.dumps(e)[:600])
PY
