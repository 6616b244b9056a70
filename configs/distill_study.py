"""The distillation study (studies/distillation/): where does distillation pay off?

    python -m dsiam_jax.main --config=configs/distill_study.py:pilot \
        --config.ablation.teacher_checkpoint=W1 --workdir=runs/distill_study_pilot

A sweep for mode=ablation (see configs/ablation.py): every row is a student run of
the pipeline's laptop sizes (teacher 48-128-192-192-128, students 16-32-48-48-32,
13.6x smaller) on the synthetic data, evaluated on `pipeline.eval_sequences`
sequences of the synthetic test split. The `get_config` argument picks a phase:

- `pilot`: one seed, the loss forms side by side (scratch; the paper's pointwise soft
  loss; the same with positives and background balanced; the spatial soft loss at
  T = 2 and 4), `study.student_steps` steps;
- `main`: three seeds of scratch, the pilot's best form (spatial, T = 2), the paper's
  soft loss and the spatial form with sharing between two students,
  `study.student_steps` steps (the first two, the decisive pair, seed by seed first);
- `schedule`: three seeds, 300 steps (the main job's length), of scratch and spatial_t2
  with the learning rate decayed 1e-2 -> 1e-5 (the default) or only to 1e-3;
- `knobs`: three seeds, 600 steps, of spatial_t2_lr3 and the same with a 4x soft weight
  or with the feature hint at weight 1 or 0.1 (does more of the teacher close the gap?);
- `long`: three seeds, 1500 steps, of spatial_t2_lr3 and scratch_lr3 (evaluated also at
  600 and 1000; do 2.5x more steps on the better schedule close the gap to the teacher?);
- `tiny`: a few steps of two rows (the test suite runs it so the study does not rot).

Rows are defined once in `ROWS` below; `study.rows` picks them. Results:
`python -m studies.distillation.analyze --sweep=WORKDIR --out=...`.
"""

import ml_collections

from configs import ablation

SPATIAL = {"share": False, "soft_form": "spatial", "temperature": 2.0}
LR3 = {"train.lr_end": 1e-3}  # the rate decays 10x less: 1e-2 -> 1e-3 instead of 1e-5

# row -> (students, overrides of config.distill; None = trained from scratch[, other
# dotted overrides, e.g. of the learning-rate schedule])
ROWS = {
    "scratch": (1, None),
    "soft": (1, {"share": False}),  # the paper's default (pointwise, T 2, beta 0.1, rho 0.1)
    "soft_balanced": (1, {"share": False, "soft_balanced": True}),
    "soft_nobg": (1, {"share": False, "beta": 1.0}),
    "spatial_t2": (1, SPATIAL),
    "spatial_t4": (1, {**SPATIAL, "temperature": 4.0}),
    "spatial_t2_share": (2, {**SPATIAL, "share": True}),
    "soft_share": (2, {"share": True}),
    "scratch_lr3": (1, None, LR3),
    "spatial_t2_lr3": (1, SPATIAL, LR3),
    # knobs on top of it: a 4x soft weight; the feature hint (1x1 adapter, MSE on the
    # search feature) at weight 1 and 0.1
    "spatial_t2_lr3_w4": (1, {**SPATIAL, "lambda_cls": 4.0}, LR3),
    "spatial_t2_lr3_hint": (1, {**SPATIAL, "lambda_hint": 1.0}, LR3),
    "spatial_t2_lr3_hint01": (1, {**SPATIAL, "lambda_hint": 0.1}, LR3),
}

PHASES = {
    "pilot": dict(
        rows=("scratch", "soft", "soft_balanced", "spatial_t2", "spatial_t4"),
        seeds=(0,),
        student_steps=600,
    ),
    "main": dict(
        rows=("scratch", "spatial_t2", "soft", "spatial_t2_share"),
        seeds=(0, 1, 2),
        student_steps=1500,
        eval_steps=(300, 600, 1000),
    ),
    "schedule": dict(
        rows=("spatial_t2_lr3", "spatial_t2", "scratch_lr3", "scratch"),
        seeds=(0, 1, 2),
        student_steps=300,
    ),
    "knobs": dict(
        rows=(
            "spatial_t2_lr3",
            "spatial_t2_lr3_w4",
            "spatial_t2_lr3_hint",
            "spatial_t2_lr3_hint01",
        ),
        seeds=(0, 1, 2),
        student_steps=600,
    ),
    "long": dict(
        rows=("spatial_t2_lr3", "scratch_lr3"),
        seeds=(0, 1, 2),
        student_steps=1500,
        eval_steps=(600, 1000),
    ),
    "tiny": dict(rows=("scratch", "spatial_t2"), seeds=(0,), student_steps=4, eval_steps=(2,)),
}


def get_config(phase: str = "pilot"):
    if phase not in PHASES:
        raise ValueError(f"configs/distill_study.py:{phase}: expected one of {sorted(PHASES)}")
    p = PHASES[phase]
    config = ablation.get_config()
    config.ablation.seeds = p["seeds"]
    config.ablation.rows = p["rows"]
    config.pipeline.laptop.student_steps = p["student_steps"]
    config.ablation.eval_steps = p.get("eval_steps", ())
    config.pipeline.eval_sequences = 48  # paired comparisons need >= 32 sequences
    # every phase was measured with the students' learning rate decaying to train.lr_end
    # (1e-5), before the laptop preset's student_lr_end; rows may override train.lr_end.
    # The study's teacher (run.sh step 1): 600 steps decaying to train.lr_end, the main
    # job's teacher before the preset's teacher_steps / teacher_lr_end changed.
    lap = config.pipeline.laptop
    lap.student_lr_end = lap.teacher_lr_end = config.train.lr_end
    lap.teacher_steps = 600
    config.train.checkpoint_every = 2 if phase == "tiny" else 100
    config.study = ml_collections.ConfigDict()
    config.study.phase = phase
    if phase == "tiny":
        lap = config.pipeline.laptop
        lap.teacher_channels, lap.student_channels = (8, 16, 16, 16, 16), (8, 16, 16, 16, 16)
        lap.template_size, lap.search_size, lap.teacher_steps = 103, 151, 4
        config.pipeline.eval_sequences = 2
        config.data.synthetic.sequence_length = 8
        config.eval.network_repeats = 0
        config.eval.plots = False
    return config


def sweep(config) -> list[dict]:
    """One dict per training run (see dsiam_jax/jobs/ablation.py)."""
    student = tuple(config.pipeline.laptop.student_channels)
    runs = []
    for name in config.ablation.rows:
        if name not in ROWS:
            raise ValueError(f"study.rows: unknown row {name!r}; known: {sorted(ROWS)}")
        n, distill, *extra = ROWS[name]
        if distill is None:
            overrides = {
                "model.channels": student,
                "train.model_name": "student_scratch",
                "train.model_role": "student",
            }
            mode, what = "train", "ground truth only"
        else:
            overrides = {
                "distill.students": (student,) * n,
                **{f"distill.{k}": v for k, v in distill.items()},
            }
            mode, what = "distill", ", ".join(f"{k}={v}" for k, v in distill.items())
        for more in extra:
            overrides = {**overrides, **more}
            what += ", " + ", ".join(f"{k}={v}" for k, v in more.items())
        for seed in config.ablation.seeds:
            runs.append(
                {
                    "row": name,
                    "seed": seed,
                    "mode": mode,
                    "description": f"{n} student(s), {what}",
                    "overrides": overrides,
                }
            )
    # The first two rows (the decisive pair) seed by seed, then the others seed by seed:
    # a sweep stopped early still holds complete pairs for the seeds it reached.
    rows = list(config.ablation.rows)
    seeds = list(config.ablation.seeds)
    return sorted(
        runs,
        key=lambda r: (rows.index(r["row"]) >= 2, seeds.index(r["seed"]), rows.index(r["row"])),
    )
