"""mode=pipeline: the whole method end to end, resumable (configs/default.py).

Stages, each a job in its own folder under WORKDIR (see `stages.run_stages`):

1. `data`: the synthetic test split written as a GOT-10k folder (any toolkit reads it);
   training pairs are generated on the fly from the same generator's train split,
2. `teacher`: the teacher on its ground-truth loss (mode=train),
3. `students`: two students distilled from it with mutual learning (mode=distill),
4. `scratch`: the same student architecture trained without a teacher (mode=train),
5. `evaluate`: all of them on the synthetic test split (mode=evaluate),

then `report.md` with sizes, speed and accuracy, the plots, and what the numbers say.
With `distill.teacher_cache='auto'` the distillation stages share WORKDIR/teacher_cache
(`shared_teacher_cache`), so a resumed or extended run does not run the teacher again.
`pipeline.size='laptop'` shrinks widths, crops and steps so the run fits about
20 minutes on a 2-core CPU; `pipeline.size='full'` uses `config.model`,
`config.distill.students`, `config.train` and the crop sizes as they are.
"""

from __future__ import annotations

from typing import Any

import ml_collections
from absl import logging

from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.jobs import run_report
from dsiam_jax.jobs.stages import Stage, run_folder, run_stages, stage_dirs, synthetic_split

SIZES = ("laptop", "full")
TEACHER_CACHE_FOLDER = "teacher_cache"  # under the run's workdir


def shared_teacher_cache(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """The `distill.teacher_cache` override of a run's distillation stages.

    With 'auto': WORKDIR/teacher_cache, one folder for all of them. Its subfolders are
    keyed by teacher and data, so every stage that sees the same examples (ablation
    rows of one seed, a resumed stage) reads the teacher's outputs instead of
    computing them. 'off' or a folder: as given (no override).
    """
    if str(config.distill.teacher_cache).strip() != "auto":
        return {}
    return {
        "distill.teacher_cache": lambda d: str(run_folder(d) / TEACHER_CACHE_FOLDER),
    }


def resolved_settings(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """What the run will use (after the size preset): widths, crops, steps, batch."""
    p = config.pipeline
    if p.size not in SIZES:
        raise ConfigError(f"pipeline.size={p.size!r}: expected one of {SIZES}")
    if p.size == "full":
        students = tuple(tuple(s) for s in config.distill.students)
        return {
            "teacher_channels": tuple(config.model.channels),
            "student_channels": students[0] if students else (),
            "num_students": len(students),
            "template_size": config.data.template_size,
            "search_size": config.data.search_size,
            "teacher_steps": config.train.num_steps,
            "student_steps": p.student_steps or config.train.num_steps,
            "teacher_lr_end": config.train.lr_end,
            "student_lr_end": config.train.lr_end,
            "batch_size": config.train.batch_size,
        }
    lap = p.laptop
    return {
        "teacher_channels": tuple(lap.teacher_channels),
        "student_channels": tuple(lap.student_channels),
        "num_students": int(lap.num_students),
        "template_size": lap.template_size,
        "search_size": lap.search_size,
        "teacher_steps": lap.teacher_steps,
        "student_steps": lap.student_steps,
        "teacher_lr_end": lap.teacher_lr_end,
        "student_lr_end": lap.student_lr_end,
        "batch_size": lap.batch_size,
    }


def make_stages(config: ml_collections.ConfigDict) -> list[Stage]:
    """The pipeline's stages with their config overrides."""
    s = resolved_settings(config)
    p = config.pipeline
    kind = config.model.kind
    crops = {
        "data.template_size": s["template_size"],
        "data.search_size": s["search_size"],
        f"tracker.{kind}.template_size": s["template_size"],
        f"tracker.{kind}.search_size": s["search_size"],
        "train.batch_size": s["batch_size"],
    }
    if kind == "siamrpn":  # the RPN tracker searches a larger crop than training
        extra = config.tracker.siamrpn.search_size - config.data.search_size
        crops[f"tracker.{kind}.search_size"] = s["search_size"] + extra
    student_train = {
        **crops,
        "train.num_steps": s["student_steps"],
        "train.lr_end": s["student_lr_end"],
        "train.checkpoint_every": max(1, min(config.train.checkpoint_every, s["student_steps"])),
    }
    teacher_train = {
        **crops,
        "model.channels": s["teacher_channels"],
        "train.num_steps": s["teacher_steps"],
        "train.lr_end": s["teacher_lr_end"],
        "train.checkpoint_every": max(1, min(config.train.checkpoint_every, s["teacher_steps"])),
        "train.model_name": "teacher",
        "train.model_role": "teacher",
    }
    students = (s["student_channels"],) * s["num_students"]
    # The evaluation split only; `pipeline.eval_sequences` beyond its default count writes
    # that many (the first ones are the default split's).
    what = f"synthetic {p.eval_split} split as a GOT-10k folder"
    data, split_reader = synthetic_split(config, p.eval_split, p.eval_sequences, "data", what)
    eval_overrides = {
        **crops,
        **split_reader,
        "eval.max_sequences": p.eval_sequences,
        "checkpoint": lambda d: ",".join(d[n] for n in ("teacher", "students", "scratch")),
    }
    return [
        data,
        Stage("teacher", "train", teacher_train, f"teacher {s['teacher_channels']}"),
        Stage(
            "students",
            "distill",
            {
                **student_train,
                **shared_teacher_cache(config),
                "teacher.checkpoint": lambda d: d["teacher"],
                "distill.students": students,
            },
            f"{len(students)} students {s['student_channels']} distilled with sharing",
        ),
        Stage(
            "scratch",
            "train",
            {
                **student_train,
                "model.channels": s["student_channels"],
                "train.model_name": "student_scratch",
                "train.model_role": "student",
            },
            "the same student without a teacher",
        ),
        Stage("evaluate", "evaluate", eval_overrides, "all models on the synthetic test split"),
    ]


def run(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
    """Runs (or resumes) every stage, then writes WORKDIR/report.md."""
    stages = make_stages(config)
    run_stages(config, workdir, stages)
    dirs = stage_dirs(workdir, stages)
    if not parallel.is_main_process():
        return {}
    report = run_report.pipeline_report(config, workdir, dirs, resolved_settings(config))
    logging.info("wrote %s", report["path"])
    print(f"wrote {report['path']}")
    return report
