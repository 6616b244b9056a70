#!/usr/bin/env bash
# Zoo-size SiamFC students (24-64-96-96-64, 15.2x) from the zoo teacher with
# configs/dstfc.py on the 1e-3 schedule as zoo/build.sh, but 1500 steps instead of 500
# (section 10: the gap closes by step 1000-1500). Ran 2026-12-01 18:01-18:45 from a
# snapshot of the repository at d8855ef; resumable. evaluate.sh then tracked the
# students on the 48 scenes of section 8 (the teacher's evaluation there is reused).
set -euo pipefail
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=siamfc_teacher \
    --workdir=/work/runs/zoo1500/dstfc --config.train.num_steps=1500 --config.train.checkpoint_every=250 \
    --config.train.lr_end=1e-3
