#!/usr/bin/env bash
# studies/siamrpn section 12: E_long and C_long (section 8) with the learning rate
# decaying to 1e-3 instead of 1e-5 (the distillation study's schedule finding).
set -euo pipefail
cd /work/snap_study
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
W=/work/runs/rpn_lr3
while [ -e /work/runs/HOLD_LONG ]; do sleep 10; done
RPN="--config=configs/siamrpn_teacher.py --config.model.channels=(16,32,48,48,32)
     --config.model.head=depthwise --config.model.head_channels=32
     --config.train.num_steps=400 --config.train.warmup_steps=50
     --config.train.checkpoint_every=400"
python -m dsiam_jax.main $RPN --config.model.head=depthwise --config.loss.rpn_rank_weight=1.0 \
    --config.train.num_steps=2000 --config.train.checkpoint_every=250 --workdir=$W/E_long_lr3 \
    --config.train.lr_end=1e-3
python -m dsiam_jax.main --config=configs/siamfc_teacher.py --workdir=$W/C_long_lr3 \
    --config.model.channels="(16,32,48,48,32)" --config.train.num_steps=2000 \
    --config.train.checkpoint_every=250 --config.train.lr_end=1e-3
for R in E_long_lr3 C_long_lr3; do
  python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$W/$R \
      --config.eval.layout=synthetic --config.eval.split=test --workdir=$W/$R/eval --config.backend=jax \
     --config.tracker.siamrpn.score_map=probability --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0
done
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$W/E_long_lr3 \
    --config.tracker.siamrpn.center=peak --config.eval.layout=synthetic \
    --config.eval.split=test --workdir=$W/E_long_lr3/eval_peak --config.backend=jax \
     --config.tracker.siamrpn.score_map=probability
python -m studies.siamrpn.compare --out=$W/schedule.json \
    --runs="EL3:0=$W/E_long_lr3/eval,EL3pk:0=$W/E_long_lr3/eval_peak,CL3:0=$W/C_long_lr3/eval" \
    --pairs="CL3-EL3,CL3-EL3pk,EL3pk-EL3"
python -m studies.siamrpn.motion --models=$W/E_long_lr3 --pairs=128 --sequences=64 \
    --evals="EL3=$W/E_long_lr3/eval,EL3pk=$W/E_long_lr3/eval_peak,CL3=$W/C_long_lr3/eval" \
    --out=$W/motion_lr3.json
echo done
