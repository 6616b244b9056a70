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
MATCHER="$MATCHER_RECIPE --config.data.synthetic.num_sequences=512"
case ${ARM:?set ARM=S or SL} in
  S) FLAGS="" ;;
  SL) FLAGS="--config.train.backbone_lr_scale=0.1" ;;
  *) echo "unknown ARM=$ARM" >&2; exit 2 ;;
esac
python -m dsiam_jax.main $MATCHER $FLAGS --config.train.num_steps=1000 --workdir=$M/$ARM
for s in 500 1000; do eval_synthetic $M/eval_${ARM}_$s $M/$ARM/checkpoints/$s; done
echo done
