#!/usr/bin/env bash
# studies/siamrpn section 14: everything behind its tables, in the order it ran
# (2026-12-01 g; this session: W=/work/runs, run from a snapshot of the repository).
# E_long_lr3 / C_long_lr3 are section 12's runs (results/schedule.sh), E128_long_lr3
# section 13's (results/toy/toy.sh).
set -euo pipefail
W=${W:-/work/runs}
export JAX_COMPILATION_CACHE_DIR=$W/jaxcache
RPN="--config=configs/siamrpn_teacher.py --config.model.channels=(16,32,48,48,32)
     --config.model.head=depthwise --config.model.head_channels=32
     --config.train.warmup_steps=50 --config.loss.rpn_rank_weight=1.0
     --config.train.num_steps=2000 --config.train.checkpoint_every=250 --config.train.lr_end=1e-3"
# X: SiamFC's feature correlation added to the foreground logits; K: the centre term.
python -m dsiam_jax.main $RPN --config.model.rpn_cls_xcorr=True --workdir=$W/rpn_x/X_long_lr3
python -m dsiam_jax.main $RPN --config.loss.rpn_center_weight=1.0 --workdir=$W/rpn_x/K_long_lr3
# G (section 15): the GIoU box loss.
python -m dsiam_jax.main $RPN --config.loss.rpn_reg_form=giou --workdir=$W/rpn_x/G_long_lr3
for R in X_long_lr3 K_long_lr3 G_long_lr3; do
  python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$W/rpn_x/$R \
      --config.eval.layout=synthetic --config.eval.split=test --workdir=$W/rpn_x/$R/eval \
      --config.backend=jax \
     --config.tracker.siamrpn.score_map=probability --config.tracker.siamrpn.center=regression --config.tracker.siamrpn.aspect_rate=1.0
  python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$W/rpn_x/$R \
      --config.tracker.siamrpn.center=peak --config.eval.layout=synthetic \
      --config.eval.split=test --workdir=$W/rpn_x/$R/eval_peak --config.backend=jax \
     --config.tracker.siamrpn.score_map=probability
done
python -m studies.siamrpn.compare --out=studies/siamrpn/results/cls_inputs.json \
    --runs="EL3:0=$W/rpn_lr3/E_long_lr3/eval,EL3pk:0=$W/rpn_lr3/E_long_lr3/eval_peak,CL3:0=$W/rpn_lr3/C_long_lr3/eval,X:0=$W/rpn_x/X_long_lr3/eval,Xpk:0=$W/rpn_x/X_long_lr3/eval_peak,K:0=$W/rpn_x/K_long_lr3/eval,Kpk:0=$W/rpn_x/K_long_lr3/eval_peak,G:0=$W/rpn_x/G_long_lr3/eval,Gpk:0=$W/rpn_x/G_long_lr3/eval_peak" \
    --pairs="X-EL3,Xpk-EL3pk,K-EL3,Kpk-EL3pk,G-EL3,Gpk-EL3pk,CL3-X,CL3-K,CL3-Kpk"
# Parts replaced by the truth or by C_long_lr3's response (64 test sequences each).
OUT=studies/siamrpn/results/parts/hybrid.json
FC="--siamfc=$W/rpn_lr3/C_long_lr3"
python -m studies.siamrpn.hybrid --models=$W/rpn_lr3/E_long_lr3,$W/rpn_x/X_long_lr3 $FC --out=$OUT \
    --variants=trained,cls,reg,offsets,sizes,both,siamfc
python -m studies.siamrpn.hybrid --models=$W/rpn_lr3/E_long_lr3 $FC --variants=siamfc_reg --out=$OUT
python -m studies.siamrpn.hybrid --models=$W/rpn_lr3/E_long_lr3 --center=peak $FC --out=$OUT \
    --variants=trained,cls,reg,both,siamfc,siamfc_reg
python -m studies.siamrpn.hybrid --models=$W/rpn_x/K_long_lr3,$W/rpn_toy/E128_long_lr3 $FC \
    --variants=trained,cls,reg,siamfc --out=$OUT
# C_long_lr3's own tracker, the same frame statistics (the SiamFC row of the table).
python -m studies.siamrpn.hybrid --evals=C_long_lr3=$W/rpn_lr3/C_long_lr3/eval --out=$OUT
python -m studies.siamrpn.hybrid --models=$W/rpn_x/G_long_lr3 --variants=trained,cls,reg --out=$OUT
