#!/usr/bin/env bash
# Zoo SiamFC students rebuilt with 3000 steps: publish /work/runs/zoo3000/dstfc (zoo/build.sh's
# dstfc command with --config.train.num_steps=3000, from the zoo teacher) with the int8
# check, then build.sh's evaluation of the zoo (JAX float32, 16 scenes; the SiamRPN
# teacher is not in the zoo and its run folder is gone). From /work/main.
set -euo pipefail
cd /work/main
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
RUNS=/work/runs/zoo
python -m dsiam_jax.main --config=configs/publish.py --workdir=$RUNS/publish3000 --config.publish.overwrite=True \
    --config.publish.check_sequences=64 \
    --config.checkpoint=/work/runs/zoo3000/dstfc --config.publish.prefix=siamfc_
for name in siamfc_student_0 siamfc_student_1; do
  rm -rf "zoo/$name" && cp -r "$RUNS/publish3000/$name" "zoo/$name"
done
python -m dsiam_jax.main --config=configs/evaluate.py --workdir=$RUNS/evaluate3000 --config.backend=jax \
    --config.checkpoint=siamfc_teacher,siamfc_student_0,siamfc_student_1,siamrpn_student_0,siamrpn_student_1 \
    --config.eval.layout=synthetic --config.eval.split=test --config.eval.max_sequences=16
echo done
