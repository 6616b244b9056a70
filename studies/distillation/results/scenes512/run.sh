#!/usr/bin/env bash
# Section 13: the zoo's SiamFC student recipe (configs/dstfc.py from the zoo teacher, two
# 24-64-96-96-64 students, 3000 steps, rate 1e-2 -> 1e-3) on 512 synthetic scenes instead
# of the default 64, and the same student trained from scratch (labels only, same
# optimiser) on 512 and on 64 scenes. Evaluated at 1500 and 3000 steps on the 64 test
# scenes (and the distilled students on the first 64 train scenes). Resumable: rerun the
# same command. From the repository root (or a snapshot of it).
source studies/siamrpn/results/common.sh
D=$W/scenes512
ZOO_STUDENTS="--config.train.num_steps=3000 --config.train.checkpoint_every=250
    --config.train.lr_end=1e-3 --config.train.max_to_keep=0"
SCRATCH="--config=configs/siamfc_teacher.py --config.model.channels=(24,64,96,96,64)
    --config.train.model_name=student_scratch --config.train.model_role=student"
python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=siamfc_teacher \
    $ZOO_STUDENTS --config.data.synthetic.num_sequences=512 --workdir=$D/distill
python -m dsiam_jax.main $SCRATCH $ZOO_STUDENTS --config.data.synthetic.num_sequences=512 \
    --workdir=$D/scratch
python -m dsiam_jax.main $SCRATCH $ZOO_STUDENTS --workdir=$D/scratch64
for s in 1500 3000; do
  for run in distill scratch scratch64; do
    eval_synthetic $D/eval_${run}_$s $D/$run/checkpoints/$s
  done
done
eval_synthetic $D/eval_train_distill_3000 $D/distill/checkpoints/3000 train
echo done
