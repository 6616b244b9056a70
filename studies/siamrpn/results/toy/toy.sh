#!/usr/bin/env bash
# Section 13 as it ran (2026-12-01 e): the four scripts in order, each resumable.

# ---- /work/runs/rpn_toy.sh
# studies/siamrpn section 13: E_long_lr3's recipe (16-32-48-48-32, depthwise head 32,
# ranking term, 1e-3 schedule) trained on the on-device toy pairs instead of the
# synthetic scenes: does the regression learn the centre offsets when the data is a
# textured box on a smooth background (exact boxes, no pipeline)?
set -euo pipefail
cd /work/snap_rpn
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
W=/work/runs/rpn_toy
python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --config.model.channels="(16,32,48,48,32)" \
    --config.model.head=depthwise --config.model.head_channels=32 --config.loss.rpn_rank_weight=1.0 \
    --config.train.num_steps=1000 --config.train.warmup_steps=50 --config.train.checkpoint_every=250 \
    --config.train.lr_end=1e-3 --config.train.input=toy --workdir=$W/E_toy
echo done

# ---- /work/runs/rpn_toy2.sh
# studies/siamrpn section 13 (controls): the same toy-pair run with the up-channel
# head, and with the depthwise head's 3x3 conv after the correlation.
set -euo pipefail
cd /work/snap_rpn
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
W=/work/runs/rpn_toy
TOY="--config=configs/siamrpn_teacher.py --config.model.channels=(16,32,48,48,32)
     --config.model.head_channels=32 --config.loss.rpn_rank_weight=1.0
     --config.train.num_steps=1000 --config.train.warmup_steps=50 --config.train.checkpoint_every=250
     --config.train.lr_end=1e-3 --config.train.input=toy"
python -m dsiam_jax.main $TOY --config.model.head=upchannel --workdir=$W/U_toy
python -m dsiam_jax.main $TOY --config.model.head=depthwise --config.model.rpn_head_kernel=3 --workdir=$W/E3_toy
for R in U_toy E3_toy; do
  python -m studies.siamrpn.reg_by_anchor --model=$W/$R --pairs=128 --input=toy --out=$W/reg_toy_$R.json
done
echo done

# ---- /work/runs/rpn_toy3.sh
# studies/siamrpn section 13 (controls, 2): the depthwise head 4x wider (128 channels
# of correlation instead of 32) on the toy pairs.
set -euo pipefail
cd /work/snap_rpn
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
W=/work/runs/rpn_toy
python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --config.model.channels="(16,32,48,48,32)" \
    --config.model.head=depthwise --config.model.head_channels=128 --config.loss.rpn_rank_weight=1.0 \
    --config.train.num_steps=1000 --config.train.warmup_steps=50 --config.train.checkpoint_every=250 \
    --config.train.lr_end=1e-3 --config.train.input=toy --workdir=$W/E128_toy
python -m studies.siamrpn.reg_by_anchor --model=$W/E128_toy --pairs=128 --input=toy --out=$W/reg_toy_E128_toy.json
echo done

# ---- /work/runs/rpn_wide.sh
# studies/siamrpn section 13: E_long_lr3 (section 12) with the depthwise head 4x wider
# (head_channels 128), on the synthetic scenes; evaluated like section 12.
set -euo pipefail
cd /work/snap_rpn
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
W=/work/runs/rpn_toy
L=/work/runs/rpn_lr3
RPN="--config=configs/siamrpn_teacher.py --config.model.channels=(16,32,48,48,32)
     --config.model.head=depthwise --config.model.head_channels=128
     --config.train.num_steps=2000 --config.train.warmup_steps=50
     --config.train.checkpoint_every=250"
python -m dsiam_jax.main $RPN --config.loss.rpn_rank_weight=1.0 --config.train.lr_end=1e-3 \
    --workdir=$W/E128_long_lr3
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$W/E128_long_lr3 \
    --config.eval.layout=synthetic --config.eval.split=test --workdir=$W/E128_long_lr3/eval --config.backend=jax \
     --config.tracker.siamrpn.score_map=probability --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$W/E128_long_lr3 \
    --config.tracker.siamrpn.center=peak --config.eval.layout=synthetic \
    --config.eval.split=test --workdir=$W/E128_long_lr3/eval_peak --config.backend=jax \
     --config.tracker.siamrpn.score_map=probability
python -m studies.siamrpn.compare --out=$W/wide.json \
    --runs="EL3:0=$L/E_long_lr3/eval,EL3pk:0=$L/E_long_lr3/eval_peak,CL3:0=$L/C_long_lr3/eval,W:0=$W/E128_long_lr3/eval,Wpk:0=$W/E128_long_lr3/eval_peak" \
    --pairs="W-EL3,Wpk-EL3pk,CL3-W,CL3-Wpk,Wpk-W"
python -m studies.siamrpn.reg_by_anchor --model=$W/E128_long_lr3 --pairs=96 --out=$W/reg_E128_long_lr3.json
echo done

# ---- by hand, after the runs above
python -m studies.siamrpn.reg_by_anchor --model=$W/E_toy --pairs=128 --input=toy --out=$W/reg_toy_E_toy.json
python -m studies.siamrpn.reg_by_anchor --model=/work/runs/rpn_lr3/E_long_lr3 --pairs=96 --out=$W/reg_EL3.json

# ---- /work/runs/rpn_toy_seed1.sh (seed 1 of E_toy and E128_toy)
set -euo pipefail
cd /work/snap_rpn
export JAX_COMPILATION_CACHE_DIR=/work/runs/jaxcache
W=/work/runs/rpn_toy
for H in 32 128; do
  python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --config.model.channels="(16,32,48,48,32)" \
      --config.model.head=depthwise --config.model.head_channels=$H --config.loss.rpn_rank_weight=1.0 \
      --config.train.num_steps=1000 --config.train.warmup_steps=50 --config.train.checkpoint_every=250 \
      --config.train.lr_end=1e-3 --config.train.input=toy --config.seed=1 --workdir=$W/E${H}_toy_seed1
  python -m studies.siamrpn.reg_by_anchor --model=$W/E${H}_toy_seed1 --pairs=128 --input=toy \
      --out=$W/reg_toy_E${H}_toy_seed1.json
done
echo done
