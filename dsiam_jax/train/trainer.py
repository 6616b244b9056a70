"""The training loop: checkpoints, resume, logging, the NaN guard.

`train(run, workdir, plan, teacher, make_batches)` runs the steps of a
`TrainPlan` on the batches `make_batches(mesh, start_step)` yields. The `train` /
`distill` jobs (`dsiam_jax.jobs.train`) build the plan, load the teacher and pick
the input (the tf.data pipeline of `data_pipelines.pairs`, or on-device toy pairs):

- mode `train`: one network (`config.model`) on its ground-truth loss, saved as
  `train.model_name` (default: the kind, e.g. `siamfc`) with role `train.model_role`.
- mode `distill`: the frozen teacher from `teacher.checkpoint` (loaded with
  `checkpoints.load_models`; it records its own spec) teaches the students
  `distill.students`, saved as `student_0`, `student_1`, ... (role `student`). The
  teacher is not part of the distillation checkpoint. With `distill.teacher_cache`
  (default 'auto': WORKDIR/teacher_cache) its outputs are read from, or computed
  once into, `teacher_cache` and the step runs only the students.

A checkpoint (`WORKDIR/checkpoints/<step>/`, every `train.checkpoint_every` steps and
at the end) holds the models (variables + spec, so trackers can load them; with
`train.ema_decay` the moving averages, plus the raw variables as `<name>_raw`), and the
`train_state` item `{'step', 'opt_state', 'adapters'}` (optimiser momentum and
schedule count, hint adapters). Running the same command again resumes from the
latest checkpoint: batch k comes from `(seed, k)`, per-step randomness from
`fold_in(key, step)`, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import logging as std_logging
import math
import pathlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
from absl import logging

from dsiam_jax import checkpoints as ckpt
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError, UserError
from dsiam_jax.models.spec import ModelSpec, TrackerModel
from dsiam_jax.train import init_from
from dsiam_jax.train import state as state_lib
from dsiam_jax.train import step as step_lib
from dsiam_jax.train import teacher_cache as teacher_cache_lib
from dsiam_jax.train.metrics_log import MetricsLogger
from dsiam_jax.train.settings import RunSettings
from dsiam_jax.train.state import TrainPlan, TrainState

# (mesh, first step) -> the global batches of that step on
BatchSource = Callable[[jax.sharding.Mesh, int], Iterator[dict[str, jax.Array]]]


class NonFiniteLossError(UserError, FloatingPointError):
    """A loss became NaN or infinite; names the step and the terms."""


class _QuietOrbax(std_logging.Filter):
    """Drops orbax's per-save INFO chatter (warnings and errors still pass)."""

    def filter(self, record: std_logging.LogRecord) -> bool:
        return record.levelno >= std_logging.WARNING or "/orbax/" not in record.pathname


def quiet_orbax_logs() -> None:
    """Installs `_QuietOrbax` on the absl logger (once)."""
    logger = std_logging.getLogger("absl")
    if not any(isinstance(f, _QuietOrbax) for f in logger.filters):
        logger.addFilter(_QuietOrbax())


def checkpoint_variables(plan: TrainPlan, state: TrainState) -> dict[str, tuple[str, Any]]:
    """{saved name: (trained model, variables)}: each model's tracking variables under
    its name and, with moving averages (`train.ema_decay`), its raw variables (what a
    resume continues from) as `<name>_raw`."""
    out = {name: (name, state.tracking_variables(name)) for name in plan.names}
    if state.ema:
        out |= {name + ckpt.RAW_SUFFIX: (name, state.variables(name)) for name in plan.names}
    return out


def _train_state_item(state: TrainState) -> dict[str, Any]:
    return {"step": state.step, "opt_state": state.opt_state, "adapters": state.adapters}


def save_checkpoint(store, plan: TrainPlan, state: TrainState, roles, info, extra_meta):
    """Writes the trained models (with their specs) and the train state at `state.step`.

    Models are saved as host NumPy arrays: `checkpoints.load_models` (trackers,
    evaluation, a later distillation) then restores them on any device topology.
    """
    step = int(state.step)
    models = {}
    for key, (name, variables) in checkpoint_variables(plan, state).items():
        role = roles[name] if key == name else ckpt.RAW_ROLE
        models[key] = TrackerModel(key, plan.specs[name], jax.device_get(variables), role, info)
    store.save(step, models, _train_state_item(state), extra_meta)
    logging.info("saved checkpoint at step %d in %s", step, store.directory)


def restore_checkpoint(store, plan: TrainPlan, state: TrainState, step: int) -> TrainState:
    """`state` with everything restored from the checkpoint at `step` (specs checked)."""
    meta = store.restore_meta(step)
    saved = {n: ModelSpec.from_dict(m["spec"]) for n, m in meta.get("models", {}).items()}
    saved_as = checkpoint_variables(plan, state)
    expected = {key: plan.specs[name] for key, (name, _) in saved_as.items()}
    if saved != expected:
        averaged = any(n.endswith(ckpt.RAW_SUFFIX) for n in saved)
        raise ConfigError(
            f"{store.directory / str(step)} holds models "
            f"{ {n: list(s.channels) for n, s in saved.items()} } but this config trains "
            f"{ {n: list(s.channels) for n, s in plan.specs.items()} } with "
            f"train.ema_decay={plan.optim.ema_decay} (that checkpoint was written with the "
            f"moving average {'on' if averaged else 'off'}): use another --workdir"
        )
    target = {key: v for key, (_, v) in saved_as.items()}
    try:
        models, item = store.restore(step, target, _train_state_item(state))
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(
            f"cannot resume from {store.directory / str(step)} with this config "
            f"(optimiser or hint settings changed?): {e}"
        ) from e
    raw = {n: models[n + ckpt.RAW_SUFFIX if state.ema else n] for n in plan.names}
    return state.replace(
        step=item["step"],
        params={n: raw[n]["params"] for n in plan.names},
        batch_stats={n: raw[n]["batch_stats"] for n in plan.names},
        adapters=item["adapters"],
        opt_state=item["opt_state"],
        ema={n: models[n] for n in plan.names} if state.ema else {},
    )


def check_finite(step: int, metrics: Mapping[str, float], last_saved: int | None, workdir):
    """Raises `NonFiniteLossError` naming the step and every non-finite term."""
    bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
    if not bad:
        return
    terms = ", ".join(f"{k}={v}" for k, v in sorted(bad.items()))
    kept = (
        f"the last good checkpoint (step {last_saved}) is kept in {workdir}/checkpoints"
        if last_saved is not None
        else "no checkpoint was written yet"
    )
    raise NonFiniteLossError(
        f"non-finite loss at step {step}: {terms}. Training stopped; {kept}. "
        "Lower train.lr_start, set train.grad_clip, or check the data."
    )


def train(
    run: RunSettings,
    workdir: str,
    plan: TrainPlan,
    teacher: TrackerModel | None,
    make_batches: BatchSource,
    counters: Callable[[], Mapping[str, float]] | None = None,
) -> TrainState:
    """Trains (or resumes) `plan` in `workdir`; returns the final train state.

    `run`: the loop settings (`RunSettings.from_config(config)`);
    `teacher`: the frozen teacher of mode=distill (None for mode=train);
    `make_batches(mesh, start_step)`: the global batches from `start_step` on;
    `counters`: cumulative input numbers logged with the metrics (or None).
    """
    quiet_orbax_logs()
    workdir_path = pathlib.Path(workdir).resolve()
    try:
        mesh = parallel.data_mesh(run.num_devices or None)
    except ValueError as e:
        raise ConfigError(f"config.train.num_devices={run.num_devices}: {e}") from None
    if run.batch_size <= 0:
        raise ConfigError(f"config.train.batch_size={run.batch_size} must be positive")
    if run.batch_size % mesh.size or run.batch_size % jax.process_count():
        raise ConfigError(
            f"config.train.batch_size={run.batch_size} (global) must be divisible by the "
            f"{mesh.size} devices and {jax.process_count()} processes"
        )
    if run.checkpoint_every <= 0:
        raise ConfigError(f"config.train.checkpoint_every={run.checkpoint_every} must be positive")
    if run.mode == "distill":
        roles = dict.fromkeys(plan.names, "student")
        info = {"teacher_checkpoint": teacher.info.get("path", ""), "teacher": teacher.name}
        teacher_vars = state_lib.put_replicated(teacher.variables, mesh)
        cache = teacher_cache_lib.open_for_run(run, workdir_path, plan, teacher.variables)
    else:
        roles = dict.fromkeys(plan.names, run.model_role)
        info, teacher_vars, cache = {}, {}, None

    state = state_lib.init_state_on_mesh(plan, run.seed, mesh)
    store = ckpt.CheckpointStore(workdir_path, max_to_keep=run.max_to_keep or None)
    try:
        # The newest checkpoint that restores; damaged newer ones are set aside, warned.
        resumed = ckpt.restore_newest_intact(
            store, lambda step: restore_checkpoint(store, plan, state, step)
        )
        last_saved = None
        if resumed is not None:
            last_saved, state = resumed
            logging.info("resuming from the checkpoint at step %d", last_saved)
        else:  # a fresh start: model.init_from fills the backbone (mode=train)
            started = init_from.init_train_state(run, plan, state, mesh)
            state = state if started is state else started.with_ema_reset()
        if int(state.step) >= run.num_steps:
            logging.info(
                "step %d >= train.num_steps=%d: nothing to train", state.step, run.num_steps
            )
            return state
        return _loop(
            run,
            plan,
            state,
            workdir=workdir_path,
            teacher_vars=teacher_vars,
            teacher_cache=cache,
            store=store,
            last_saved=last_saved,
            roles=roles,
            info=info,
            make_batches=make_batches,
            counters=counters,
        )
    finally:
        store.close()


def _loop(
    run,
    plan,
    state,
    *,
    workdir,
    teacher_vars,
    teacher_cache,
    store,
    last_saved,
    roles,
    info,
    make_batches,
    counters,
):
    """Steps from `state.step + 1` to `train.num_steps`, with checkpoints and logging.

    `teacher_vars`: the frozen teacher's replicated variables (`{}` without one);
    `teacher_cache`: a `teacher_cache.TeacherCache` (the teacher's outputs are then
    read or computed outside the step and passed in the batch) or None;
    `last_saved`: the latest checkpoint step (None); `roles`, `info`: what the saved
    `TrackerModel`s record; `make_batches`, `counters`: as in `train`.
    """
    mesh = parallel.data_mesh(run.num_devices or None)
    start = int(state.step)
    extra_meta = {"mode": run.mode, "seed": run.seed}
    logging.info(
        "training %s for steps %d..%d on %d devices (%d processes), global batch %d",
        ", ".join(plan.names),
        start + 1,
        run.num_steps,
        mesh.size,
        jax.process_count(),
        run.batch_size,
    )
    step_fn = step_lib.make_train_step(plan, mesh, batch_per_device=run.batch_size // mesh.size)
    batches = make_batches(mesh, start)
    if teacher_cache is not None:  # the step then runs only the students
        batches = teacher_cache_lib.with_teacher_outputs(
            batches, teacher_cache, plan, mesh, teacher_vars, start, run.num_steps
        )
        teacher_vars = {}
    elif teacher_vars and not plan.lowering.teacher_in_step:  # the teacher's own program
        batches = step_lib.with_teacher_forward(batches, plan, mesh, teacher_vars)
        teacher_vars = {}
    logger = MetricsLogger(
        workdir,
        num_steps=run.num_steps,
        global_batch_size=run.batch_size,
        log_every=run.log_every,
        main_process=parallel.is_main_process(),
        counters=counters,
    )
    # Each step's metrics are fetched (and checked) after the next step is dispatched,
    # so the host never stalls the accelerator. On XLA:CPU, collective steps
    # dispatched back to back can deadlock: there each step is finished before the next.
    overlap = plan.lowering.overlap_train_steps
    pending = None  # (step, metrics) dispatched but not yet checked

    def finish(item):
        step, metrics = item
        host = {k: float(v) for k, v in jax.device_get(metrics).items()}
        check_finite(step, host, last_saved, workdir)
        logger.add(step, host)

    try:
        for step in range(start + 1, run.num_steps + 1):
            state, metrics = step_fn(state, next(batches), teacher_vars)
            if pending is not None:
                finish(pending)
                pending = None
            if overlap:
                pending = (step, metrics)
            else:
                finish((step, metrics))
            if step % run.checkpoint_every == 0 or step == run.num_steps:
                if pending is not None:  # never save a state whose loss was not checked
                    finish(pending)
                    pending = None
                save_checkpoint(store, plan, state, roles, info, extra_meta)
                last_saved = step
            if run.exit_after_steps and step - start >= run.exit_after_steps:
                logging.info(
                    "stopping after %d steps of this run (train.exit_after_steps), "
                    "without a final checkpoint",
                    step - start,
                )
                break
        if pending is not None:
            finish(pending)
    finally:
        logger.close()
    return state
