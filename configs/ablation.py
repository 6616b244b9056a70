"""The paper's ablations as one resumable sweep (mode=ablation).

    python -m dsiam_jax.main --config=configs/ablation.py --workdir=runs/ablation

Rows (every row is trained once per seed in `ablation.seeds`; students have the
pipeline's student widths, the teacher its teacher widths, `pipeline.size` preset):

| row | students | loss |
|---|---|---|
| scratch | 1 | ground truth only, no teacher |
| soft | 1 | + soft teacher loss without background suppression (beta = 1) |
| soft_bg | 1 | + background suppression (beta = 0.1): the full teacher loss, 1 student |
| soft_bg_bound | 1 | + teacher-bounded regression (SiamRPN only) |
| share_2 | 2 | + student-student sharing |
| share_3 | 3 | + sharing among 3 students |

`soft_bg`, `share_2` and `share_3` are the "1, 2 and 3 students" comparison. The
report (`ablation.md`) gives mean and standard deviation across seeds. The same
sweep runs on real data by overriding the data fields (`--config.data.layout=got10k
--config.data.root=... --config.pipeline.size=full`), and against an existing teacher
with `--config.ablation.teacher_checkpoint=W`.
"""

import ml_collections

from configs import default
from dsiam_jax.errors import ConfigError


def get_config():
    config = default.get_config()
    config.mode = "ablation"
    # The paper's ablation is of its per-position soft loss with background suppression
    # (configs/distill_study.py compares it with the spatial form, the library default).
    config.distill.soft_form = "pointwise"
    config.ablation = ml_collections.ConfigDict()
    config.ablation.seeds = (0, 1, 2)
    # Rows to run (see the table above); rows that do not apply to the model kind
    # (soft_bg_bound for SiamFC) are dropped.
    config.ablation.rows = ("scratch", "soft", "soft_bg", "soft_bg_bound", "share_2", "share_3")
    config.ablation.teacher_checkpoint = ""  # '' = train the teacher as the first stage
    # Student steps (multiples of train.checkpoint_every, before the last) at which every
    # run is also evaluated (`<row>_seed<k>_eval_step<N>/`): learning curves. Keeps all
    # of the runs' checkpoints.
    config.ablation.eval_steps = ()
    return config


def _rows(config) -> dict[str, dict]:
    """Row name -> (mode, description, overrides)."""
    student = tuple(config.pipeline.laptop.student_channels)
    if config.pipeline.size == "full":
        student = tuple(config.distill.students[0])
    rpn = config.model.kind == "siamrpn"
    no_share = {"distill.share": False, "distill.lambda_reg": 0.0}
    distill = lambda n, extra: {  # noqa: E731
        "mode": "distill",
        "overrides": {"distill.students": (student,) * n, **extra},
    }
    rows = {
        "scratch": {
            "mode": "train",
            "description": "ground truth only, no teacher",
            "overrides": {
                "model.channels": student,
                "train.model_name": "student_scratch",
                "train.model_role": "student",
            },
        },
        "soft": {
            **distill(1, {**no_share, "distill.beta": 1.0}),
            "description": "+ soft loss (no background suppression)",
        },
        "soft_bg": {
            **distill(1, {**no_share, "distill.beta": 0.1}),
            "description": "+ background suppression (1 student)",
        },
        "share_2": {
            **distill(2, {"distill.share": True, "distill.lambda_reg": float(rpn)}),
            "description": "+ student-student sharing (2 students)",
        },
        "share_3": {
            **distill(3, {"distill.share": True, "distill.lambda_reg": float(rpn)}),
            "description": "sharing among 3 students",
        },
    }
    if rpn:
        rows["soft_bg_bound"] = {
            **distill(1, {"distill.share": False, "distill.beta": 0.1, "distill.lambda_reg": 1.0}),
            "description": "+ teacher-bounded regression (1 student)",
        }
    return rows


def sweep(config) -> list[dict]:
    """One dict per training run: row, seed, mode and config overrides."""
    rows = _rows(config)
    unknown = sorted(set(config.ablation.rows) - set(rows) - {"soft_bg_bound"})
    if unknown:
        raise ConfigError(f"ablation.rows: unknown rows {unknown}; known: {sorted(rows)}")
    return [
        {"row": name, "seed": seed, **rows[name]}
        for name in config.ablation.rows
        if name in rows
        for seed in config.ablation.seeds
    ]
