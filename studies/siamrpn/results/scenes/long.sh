#!/usr/bin/env bash
# Section 28, next: SL (512 scenes, backbone at a tenth of the rate) on a 2,000-step
# schedule (rate 5e-3 after 50 warm-up steps decaying to 1e-3 over 2,000 steps), to see
# whether the RPN, no longer memorising, gains with steps as sections 19-20 found at the
# students' widths. Resumable: rerun the same command; evaluations at 1,500 and 2,000.
# SEED=N (default 0) runs another seed into SL2k_sN (seed 0 keeps section 29's paths);
# STEPS=N (default 2000) another schedule length into SL<N/1000>k[_sN], evaluated also
# with the default tracker (center=upsampled, aspect_rate=0: sections 30, 33) into
# $W/upsampled/<run>_test.
source studies/siamrpn/results/common.sh
M=$W/matcher
SEED=${SEED:-0}
STEPS=${STEPS:-2000}
RUN=SL$((STEPS / 1000))k$([ "$SEED" = 0 ] || echo "_s$SEED")
SL2K="$MATCHER_RECIPE --config.data.synthetic.num_sequences=512 --config.train.backbone_lr_scale=0.1"
python -m dsiam_jax.main $SL2K --config.train.num_steps=$STEPS --config.seed=$SEED --workdir=$M/$RUN
for s in $((STEPS * 3 / 4)) $STEPS; do eval_synthetic $M/eval_${RUN}_$s $M/$RUN/checkpoints/$s; done
[ $STEPS = 2000 ] || eval_synthetic $W/upsampled/${RUN}_test $M/$RUN/checkpoints/$STEPS test \
    --config.tracker.siamrpn.center=upsampled --config.tracker.siamrpn.aspect_rate=0.0
echo done
