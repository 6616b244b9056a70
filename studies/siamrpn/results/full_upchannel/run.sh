#!/usr/bin/env bash
# Issue 14 part 3 / studies/siamrpn section 15: the paper's full-size up-channel SiamRPN
# teacher (192-512-768-768-512, 361.8 MB) from the zoo SiamFC teacher's backbone
# (model.init_from: ungrouped, widened 2x by Net2WiderNet), configs/siamrpn_teacher.py's
# recipe, 40 steps (about 60 s a step on this 2-core CPU while other jobs ran).
# Run from the repository root; W = a scratch folder.
set -euo pipefail
W=${W:-/work/runs}
export JAX_COMPILATION_CACHE_DIR=$W/jaxcache
python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --workdir=$W/rpn_full/full_up \
    --config.model.init_from=siamfc_teacher --config.train.num_steps=40 \
    --config.train.log_every=5 --config.train.checkpoint_every=20 --config.train.max_to_keep=1
