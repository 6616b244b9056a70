#!/usr/bin/env bash
# Section 28, next: SL (512 scenes, backbone at a tenth of the rate) on a 2,000-step
# schedule (rate 5e-3 after 50 warm-up steps decaying to 1e-3 over 2,000 steps), to see
# whether the RPN, no longer memorising, gains with steps as sections 19-20 found at the
# students' widths. Resumable: rerun the same command; evaluations at 1,500 and 2,000.
source studies/siamrpn/results/common.sh
M=$W/matcher
SL2K="$MATCHER_RECIPE --config.data.synthetic.num_sequences=512 --config.train.backbone_lr_scale=0.1"
python -m dsiam_jax.main $SL2K --config.train.num_steps=2000 --workdir=$M/SL2k
for s in 1500 2000; do eval_synthetic $M/eval_SL2k_$s $M/SL2k/checkpoints/$s; done
echo done
