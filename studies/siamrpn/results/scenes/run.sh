#!/usr/bin/env bash
# Section 28: section 27's matcher start (M, results/matcher/run.sh) against the fitting
# it showed on 64 training scenes. Two arms, same 1,000-step schedule, seed 0:
#   S:  M trained on 512 synthetic training scenes (data.synthetic.num_sequences=512;
#       the first 64 are M's, the test split's scenes are unchanged);
#   SL: S with the backbones' updates at a tenth of the rate (train.backbone_lr_scale=0.1,
#       pysot's rule for a pretrained backbone).
# ARM=S or ARM=SL runs one arm (the two were run side by side); resumable.
source studies/siamrpn/results/common.sh
M=$W/matcher
MATCHER="$N_RECIPE --config.model.channels=(96,256,384,384,256) --config.model.head_channels=256
     --config.model.init_from=siamfc_teacher --config.model.rpn_cls_xcorr=True
     --config.model.cls_init_scale=0 --config.model.final_bn=False
     --config.train.checkpoint_every=250 --config.train.max_to_keep=0
     --config.data.synthetic.num_sequences=512"
case ${ARM:?set ARM=S or SL} in
  S) FLAGS="" ;;
  SL) FLAGS="--config.train.backbone_lr_scale=0.1" ;;
  *) echo "unknown ARM=$ARM" >&2; exit 2 ;;
esac
python -m dsiam_jax.main $MATCHER $FLAGS --config.train.num_steps=1000 --workdir=$M/$ARM
for s in 500 1000; do
  [ -f $M/eval_${ARM}_$s/eval.json ] || python -m dsiam_jax.main --config=configs/evaluate.py \
      --config.checkpoint=$M/$ARM/checkpoints/$s --config.eval.layout=synthetic \
      --config.eval.split=test --workdir=$M/eval_${ARM}_$s --config.backend=jax
done
echo done
