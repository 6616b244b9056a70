"""Evaluate trained trackers on a benchmark (mode=evaluate).

    python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=W2 \
        --config.eval.layout=got10k --config.eval.root=/data/GOT-10k/val --workdir=W3

`config.checkpoint`: comma-separated workdirs or zoo names; every model in them
(teacher and students) is evaluated and drawn on the same plots. Writes
W3/results/<tracker>/<seq>.txt, W3/eval.json, W3/eval_*.md and W3/*_plot.png
(see dsiam_jax/evaluation/evaluator.py). Settings: `config.eval` and
`config.tracker` in configs/default.py. `--config.eval.protocol=vot` runs the VOT
reset protocol instead (EAO, accuracy, robustness; dsiam_jax/evaluation/vot.py);
`--config.eval.convention=pysot|pytracking|lasot` scores as those toolkits do.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "evaluate"
    return config
