#!/usr/bin/env bash
# Section 34's control: the SiamFC teacher's recipe (zoo/build.sh: configs/siamfc_teacher.py,
# seed 0) given the whole CPU time of the RPN path F3_1k takes (the SiamFC teacher's 600
# steps, then F3's 1,000 at 0.65 of a SiamFC step: steptime.json), i.e. 1,250 steps (its
# schedule stretched with them), evaluated on the same 256 test sequences. Resumable.
source studies/siamrpn/results/common.sh
F=$W/frozen
python -m dsiam_jax.main --config=configs/siamfc_teacher.py --workdir=$F/fc1250 \
    --config.train.num_steps=1250 --config.train.checkpoint_every=250
eval_test256 $F/fc1250_test256 $F/fc1250/checkpoints/1250
python -m studies.siamrpn.compare \
    --runs="fc:0=$W/aspect/siamfc_teacher_test256,fc1250:0=$F/fc1250_test256,F1k:0=$F/F3_1000_s1_test256" \
    --pairs=fc1250-fc,F1k-fc1250 --out=studies/siamrpn/results/frozen/control.json
echo done
