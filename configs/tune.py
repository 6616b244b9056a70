"""Search a tracker's inference settings on a validation split (mode=tune).

    python -m dsiam_jax.main --config=configs/tune.py --config.checkpoint=W2 \
        --config.eval.layout=got10k --config.eval.root=/data/GOT-10k \
        --config.eval.split=val --config.tune.num_trials=50 --workdir=W5

Then `--config.tracker_from=W5/best_tracker.json` on configs/evaluate.py or
configs/track.py uses the best setting. See dsiam_jax/jobs/tune.py for the outputs;
`config.eval` picks the validation sequences (`split`), the protocol (`ope`: success
AUC; `vot`: EAO) and the convention; `config.eval.test_split` is evaluated once
with the best setting after the search.
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "tune"
    config.eval.split = "val"  # the validation split searched on (a test split is refused)
    config.eval.test_split = "test"  # evaluated once with the best setting; '' = skip
    config.eval.plots = False
    t = config.tune = ml_collections.ConfigDict()
    t.num_trials = 30  # finished trials in the study (a rerun with more continues it)
    t.seed = 0  # TPE sampler seed
    t.startup_trials = 8  # random trials (the baseline included) before TPE models them
    t.model = ""  # which model of config.checkpoint ('' = the only one)
    t.cache_frames_mb = 2048.0  # decode the validation frames once if they fit in this
    # Search ranges (low, high), around the published settings (SiamFC: Bertinetto et
    # al.; SiamRPN: pysot's tools/tune.py ranges).
    t.siamfc = ml_collections.ConfigDict()
    t.siamfc.window_influence = (0.05, 0.6)
    t.siamfc.scale_penalty = (0.9, 1.0)
    t.siamfc.scale_lr = (0.1, 0.8)
    t.siamrpn = ml_collections.ConfigDict()
    t.siamrpn.penalty_k = (0.0, 0.6)
    t.siamrpn.window_influence = (0.05, 0.65)
    t.siamrpn.lr = (0.1, 0.8)
    return config
