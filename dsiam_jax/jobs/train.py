"""mode=train and mode=distill: the plan, the teacher and the input of a training run.

    python -m dsiam_jax.main --config=configs/siamfc_teacher.py --workdir=W1
    python -m dsiam_jax.main --config=configs/dstfc.py --config.teacher.checkpoint=W1 --workdir=W2

Turns the config into a `TrainPlan` (settings dataclasses, model specs, lowering),
loads the teacher of mode=distill, and picks the input (`train.input`): the tf.data
pipeline of `data_pipelines.pairs` ('pipeline') or on-device synthetic pairs
('toy'). The loop itself is `dsiam_jax.train.trainer.train`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import jax
import ml_collections

from dsiam_jax import checkpoints as ckpt
from dsiam_jax.anchors import response_size
from dsiam_jax.errors import ConfigError
from dsiam_jax.models.lowering import Lowering
from dsiam_jax.models.spec import ModelSpec, SpecError, TrackerModel
from dsiam_jax.student_search import fragment
from dsiam_jax.train import state as state_lib
from dsiam_jax.train import toy_pairs, trainer
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings, RunSettings
from dsiam_jax.train.state import TrainPlan, TrainState

INPUTS = ("pipeline", "toy")


def build_plan(config: ml_collections.ConfigDict) -> tuple[TrainPlan, TrackerModel | None]:
    """The plan of `config.mode` ('train' or 'distill') and the loaded teacher (or None)."""
    common = dict(
        loss=LossSettings.from_config(config.loss),
        optim=OptimSettings.from_config(config.train),
        template_size=int(config.data.template_size),
        search_size=int(config.data.search_size),
        seed=int(config.seed),
        sync_batchnorm=bool(config.train.sync_batchnorm),
        lowering=Lowering.for_backend(
            xcorr_impl=config.model.xcorr_impl,
            conv1_split=config.model.conv1_split,
            conv1_s2d=config.model.conv1_s2d,
            winograd=config.model.winograd,
            conv_library=config.model.conv_library,
        ),
        compute_dtype=str(config.train.compute_dtype),
        reg_init_scale=float(config.model.reg_init_scale),
        cls_init_scale=float(config.model.cls_init_scale),
    )
    teacher = None
    if config.mode == "train":
        spec = ModelSpec.from_config(config.model)
        specs = {config.train.model_name or spec.kind: spec}
        plan = TrainPlan(specs, **common)
    elif config.mode == "distill":
        if not config.teacher.checkpoint:
            raise ConfigError(
                "config.teacher.checkpoint is empty: give the workdir of a trained teacher "
                "(--config.teacher.checkpoint=W1)"
            )
        path = str(config.teacher.checkpoint)
        teacher = ckpt.pick_model(
            ckpt.load_models(path), config.teacher.name, path, "with --config.teacher.name"
        )
        if teacher.spec.kind != config.model.kind:  # e.g. a SiamFC teacher for configs/dstrpn.py
            raise ConfigError(
                f"config.teacher.checkpoint={path} holds a {teacher.spec.kind} teacher, but this "
                f"config distils {config.model.kind} students (config.model.kind): give a "
                f"{config.model.kind} teacher, or use the {teacher.spec.kind} distillation config"
            )
        channel_lists = list(config.distill.students)
        head_channels = config.distill.student_head_channels
        if config.distill.get("students_from"):  # a student.py of mode=student_search
            channel_lists, head_channels = fragment.students_for(
                config.distill.students_from, teacher.spec.kind, len(channel_lists)
            )
        if not channel_lists:
            raise ConfigError("config.distill.students is empty: give at least one channel list")
        specs = {}
        for i, channels in enumerate(channel_lists):
            try:
                (spec,) = state_lib.student_specs(teacher.spec, [channels], head_channels)
            except (SpecError, TypeError) as e:
                raise ConfigError(f"config.distill.students[{i}]={channels}: {e}") from e
            specs[f"student_{i}"] = spec
        distill = DistillSettings.from_config(config.distill)
        plan = TrainPlan(specs, distill=distill, teacher_spec=teacher.spec, **common)
    else:
        raise ConfigError(f"config.mode={config.mode!r} is not a training mode")
    try:
        response_size(plan.first_spec, plan.template_size, plan.search_size)
    except ValueError as e:
        raise ConfigError(f"config.data.template_size / search_size: {e}") from e
    return plan, teacher


def make_batches(
    config: ml_collections.ConfigDict, mesh: jax.sharding.Mesh, start_step: int
) -> Iterator[dict[str, jax.Array]]:
    """Global batches from step `start_step` on (`train.input`: 'pipeline' or 'toy')."""
    kwargs = dict(
        seed=int(config.seed),
        global_batch_size=int(config.train.batch_size),
        mesh=mesh,
        start_step=start_step,
    )
    if config.train.input == "toy":
        return toy_pairs.toy_batches(config.data, **kwargs)
    if config.train.input != "pipeline":
        raise ConfigError(f"config.train.input={config.train.input!r}: expected one of {INPUTS}")
    try:
        from data_pipelines import pairs  # TensorFlow: imported only here
    except ImportError as e:
        raise ConfigError(
            f"config.train.input='pipeline' needs data_pipelines.pairs and TensorFlow ({e}); "
            "--config.train.input=toy trains on on-device synthetic pairs"
        ) from e
    return pairs.train_batches(config.data, **kwargs)


def input_counters(config: ml_collections.ConfigDict) -> Callable[[], Mapping[str, float]] | None:
    """Cumulative input numbers logged with the metrics (the pipeline's unreadable frames)."""
    if config.train.input != "pipeline":
        return None
    from data_pipelines import pairs  # TensorFlow: imported only for the pipeline input

    return pairs.input_counters


def run(config: ml_collections.ConfigDict, workdir: str) -> TrainState:
    """The `train` and `distill` jobs: trains (or resumes) in `workdir`; the final state."""
    plan, teacher = build_plan(config)
    return trainer.train(
        RunSettings.from_config(config),
        workdir,
        plan,
        teacher,
        lambda mesh, start_step: make_batches(config, mesh, start_step),
        input_counters(config),
    )
