"""One data-parallel train step: targets, frozen teacher, every trained model, one update.

The step is written per device and run with `jax.shard_map` under `jax.jit` on the
1-D `data` mesh (`parallel.data_mesh`): the state and the teacher's variables are
replicated (`P()`), the batch is split over `data`. Per device:

1. targets from the boxes; randomness (RPN anchor sampling) from
   `fold_in(fold_in(stream(seed), step), global example index)`, so a batch gets the
   same targets on any number of devices and after a resume;
2. the teacher (inference-mode BatchNorm, `stop_gradient`, never differentiated),
   unless the batch carries its outputs already (`teacher/<output>` keys, e.g. from
   `dsiam_jax.train.teacher_cache`): then the step runs only the trained models;
3. every trained model in train mode (BatchNorm statistics over the global batch
   when `plan.sync_batchnorm`, else per device with the running averages
   `pmean`-ed so replicas stay identical); several trained models (a distillation's
   students) get their conv1 from one conv over their kernels (`shared_conv1_layer`);
4. `objective.objective` with a `reduce` that averages per-example values over the
   local batch and then over devices (`pmean`);
5. gradients of that device-averaged loss. With shard_map's replication checking
   (check_vma) the gradient of a replicated parameter comes back already summed
   over devices, which for the gradient of a `pmean`-ed loss is exactly the
   global-batch gradient: no further `pmean` (one would scale it by the device count);
6. one optax update of all trained models (and hint adapters) together, then (with
   `train.ema_decay`) each model's moving average of its variables.

Metrics (all global-batch means): every objective term, `loss` (the sum over
trained models), `lr`, `grad_norm` and `<name>/grad_norm`.

`make_teacher_forward` is the teacher part alone, jitted and sharded like the step:
its output, merged into the batch, makes the step skip the teacher forward. The
trainer does that on CPU even without a teacher cache (`with_teacher_forward`): the
teacher's forward is faster on other kernels than the students' training
(`Lowering.inference`, `Lowering.teacher_in_step`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax import lax
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from dsiam_jax import models as M
from dsiam_jax import parallel
from dsiam_jax.models import alexnet
from dsiam_jax.models.structure import ConvLayer, structure
from dsiam_jax.train import objective as objective_lib
from dsiam_jax.train import optim
from dsiam_jax.train import state as state_lib
from dsiam_jax.train import targets as targets_lib
from dsiam_jax.train.state import TrainPlan, TrainState

Batch = dict[str, jax.Array]
StepFn = Callable[[TrainState, Batch, Any], tuple[TrainState, dict[str, jax.Array]]]

AXIS = parallel.DATA_AXIS
TEACHER_PREFIX = "teacher/"  # batch keys of precomputed teacher outputs


def teacher_output_names(plan: TrainPlan) -> tuple[str, ...]:
    """The teacher outputs the objective reads: `response` (SiamFC) or `cls`, `reg`
    (SiamRPN), plus the search `features` when the hint loss is on."""
    names = ("response",) if plan.kind == "siamfc" else ("cls", "reg")
    return (*names, "features") if plan.uses_hint else names


def batch_teacher_outputs(plan: TrainPlan, batch: Batch) -> dict[str, Any] | None:
    """The teacher outputs carried by `batch` (`teacher/<name>` keys), or None.

    `features` is None when the hint loss is off (the objective never reads it).
    """
    names = teacher_output_names(plan)
    present = [n for n in names if TEACHER_PREFIX + n in batch]
    if not present:
        return None
    if len(present) != len(names):
        raise ValueError(f"batch has teacher outputs {present}, the step needs {list(names)}")
    return {"features": None} | {n: batch[TEACHER_PREFIX + n] for n in names}


def example_keys(seed: int, step: jax.Array, index: jax.Array) -> jax.Array:
    """One PRNG key per example: `fold_in(fold_in(stream, step), index)`, where
    stream = `fold_in(key(seed), STEP_STREAM)`."""
    stream = jax.random.fold_in(jax.random.key(seed), state_lib.STEP_STREAM)
    key = jax.random.fold_in(stream, step)
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(index)


def make_targets(plan: TrainPlan, keys: jax.Array, box: jax.Array, negative: jax.Array):
    """SiamFC `{'pos'}` or SiamRPN `{'pos', 'neg', 'delta', 'iou'}` for the batch
    (plus SiamFC's labels as `center_pos` when `loss.rpn_center_weight` is on)."""
    loss = plan.loss

    def siamfc_pos() -> jax.Array:  # [B, R, R] cells within siamfc_radius of the centre
        return targets_lib.siamfc_labels(
            box,
            negative,
            plan.response_size,
            plan.search_size,
            loss.siamfc_radius,
            loss.siamfc_distance,
        )

    if plan.kind == "siamfc":
        return {"pos": siamfc_pos()}
    extra = {"center_pos": siamfc_pos()} if loss.rpn_center_weight else {}
    return extra | targets_lib.rpn_targets(
        keys,
        box,
        negative,
        plan.anchors,
        loss.rpn_pos_iou,
        loss.rpn_neg_iou,
        loss.rpn_num_samples,
        loss.rpn_max_pos,
        loss.rpn_neg_pair_radius,
        loss.rpn_neg_pair_samples,
    )


def device_mean(values: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Per-example values -> global-batch means (local mean, then one `pmean`)."""
    keys = sorted(values)
    local = jnp.stack([jnp.mean(values[k]) for k in keys])
    return dict(zip(keys, lax.pmean(local, AXIS)))


def shared_conv1_layer(plan: TrainPlan) -> ConvLayer | None:
    """conv1 of the trained networks where the step computes it for all of them as one
    conv (`Lowering.shares_conv1`: two or more networks, each conv1 ungrouped with the
    same kernel and stride); else None."""
    firsts = [structure(plan.specs[name]).backbone[0] for name in plan.names]
    geometry = {(f.path, f.kernel, f.stride, f.groups) for f in firsts}
    if len(firsts) < 2 or len(geometry) > 1 or firsts[0].groups != 1:
        return None
    return firsts[0] if plan.train_lowering.shares_conv1 else None


def per_device_step(plan: TrainPlan) -> StepFn:
    """The step as seen by one device (call it inside `shard_map` over `data`)."""
    tx = plan.optimizer()
    schedule = optim.learning_rate_schedule(plan.optim)
    trained = {name: plan.model(name, training=True) for name in plan.names}
    teacher = plan.teacher_model() if plan.teacher_spec is not None else None
    conv1_layer = shared_conv1_layer(plan)
    compute_dtype = jnp.dtype(plan.compute_dtype)

    def shared_conv1(trainable, z, x) -> dict[str, tuple[jax.Array, jax.Array]]:
        """`{name: (template conv1, search conv1)}` without bias, computed as one conv
        (`alexnet.shared_conv1`), or `{}` where each network computes its own."""
        if conv1_layer is None:
            return {}
        kernels = []
        for name in plan.names:
            params = trainable["models"][name]
            for key in conv1_layer.path:
                params = params[key]
            kernels.append(params["kernel"])
        low, dtype = plan.train_lowering, compute_dtype
        zs = alexnet.shared_conv1(kernels, z, conv1_layer, low, dtype)  # [b, 59, 59, O_i]
        xs = alexnet.shared_conv1(kernels, x, conv1_layer, low, dtype)  # [b, 123, 123, O_i]
        return dict(zip(plan.names, zip(zs, xs, strict=True), strict=True))

    def step(state: TrainState, batch: Batch, teacher_vars: Any):
        z, x = batch["template"], batch["search"]  # [b, 127, 127, 3], [b, 255, 255, 3]
        box, negative = batch["box"], batch["negative"]  # [b, 4], [b]
        b = box.shape[0]
        index = lax.axis_index(AXIS) * b + jnp.arange(b)  # global example index
        targets = make_targets(plan, example_keys(plan.seed, state.step, index), box, negative)
        teacher_out = batch_teacher_outputs(plan, batch) if teacher is not None else None
        if teacher is not None and teacher_out is None:  # the teacher runs in the step
            teacher_out = lax.stop_gradient(M.forward(teacher, teacher_vars, z, x, train=False))

        def loss_fn(trainable):
            outputs, stats = {}, {}
            conv1 = shared_conv1(trainable, z, x)
            for name, model in trained.items():
                variables = {
                    "params": trainable["models"][name],
                    "batch_stats": state.batch_stats[name],
                }
                outputs[name], stats[name] = M.forward(
                    model, variables, z, x, train=True, conv1=conv1.get(name)
                )
            total, terms = objective_lib.objective(
                outputs,
                targets,
                num_anchors=plan.num_anchors,
                loss=plan.loss,
                distill=plan.distill,
                teacher_outputs=teacher_out,
                adapters=trainable["adapters"],
                reduce=device_mean,
            )
            return total, (terms, stats)

        trainable = state.trainable()
        (total, (terms, stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
        if not plan.sync_batchnorm:
            stats = lax.pmean(stats, AXIS)
        updates, opt_state = tx.update(grads, state.opt_state, trainable)
        trainable = optax.apply_updates(trainable, updates)
        metrics = {
            **terms,
            "loss": total,
            "lr": jnp.asarray(schedule(state.step), jnp.float32),
            "grad_norm": optax.global_norm(grads),
        }
        for name in plan.names:
            metrics[f"{name}/grad_norm"] = optax.global_norm(grads["models"][name])
        new_state = state.replace(
            step=state.step + 1,
            params=trainable["models"],
            batch_stats=stats,
            adapters=trainable["adapters"],
            opt_state=opt_state,
        )
        if state.ema:  # train.ema_decay > 0: move each model's average towards it
            decay = state_lib.ema_decay_at(plan.optim.ema_decay, new_state.step)
            new_state = new_state.replace(
                ema={
                    n: state_lib.update_ema(state.ema[n], new_state.variables(n), decay)
                    for n in plan.names
                }
            )
        return new_state, metrics

    return step


def make_train_step(
    plan: TrainPlan, mesh: Mesh, donate: bool = True, batch_per_device: int | None = None
) -> StepFn:
    """`step(state, batch, teacher_vars) -> (state, metrics)`, jitted over `mesh`.

    `state` and `teacher_vars` (`{}` without a teacher, or when the batch carries
    the teacher's outputs) are replicated; the batch holds global arrays whose
    leading axis is split over `data`. The state is donated (its buffers are
    reused) unless `donate=False`. `batch_per_device`, when known, picks the
    lowering's compile options for convs of that batch (`Lowering.compiler_options`).
    """
    sharded = jax.shard_map(
        per_device_step(plan),
        mesh=mesh,
        in_specs=(P(), P(AXIS), P()),
        out_specs=(P(), P()),
    )
    options = plan.train_lowering.compiler_options(batch_per_device) if batch_per_device else None
    return jax.jit(sharded, donate_argnums=(0,) if donate else (), compiler_options=options)


def with_teacher_forward(
    batches: Iterator[Batch], plan: TrainPlan, mesh: Mesh, teacher_vars: Any
) -> Iterator[Batch]:
    """`batches` with the frozen teacher's outputs merged in (`make_teacher_forward`),
    for a step that then runs only the trained models: where the lowering keeps the
    teacher out of the step (`Lowering.teacher_in_step`) and no cache is used."""
    forward = make_teacher_forward(plan, mesh)
    for batch in batches:
        yield {**batch, **forward(teacher_vars, batch)}


def make_teacher_forward(plan: TrainPlan, mesh: Mesh) -> Callable[[Any, Batch], Batch]:
    """`teacher_forward(teacher_vars, batch) -> {'teacher/<name>': [B, ...]}`, jitted.

    The frozen teacher in inference mode on the batch's template/search crops, per
    device under `shard_map` like the step (replicated variables, outputs split over
    `data`); `teacher_output_names(plan)` says which outputs. Merged into the batch,
    they make `make_train_step`'s step run only the trained models.
    """
    teacher = plan.teacher_model()
    names = teacher_output_names(plan)

    def forward(teacher_vars: Any, z: jax.Array, x: jax.Array) -> Batch:
        out = M.forward(teacher, teacher_vars, z, x, train=False)
        return {TEACHER_PREFIX + n: out[n] for n in names}

    sharded = jax.shard_map(forward, mesh=mesh, in_specs=(P(), P(AXIS), P(AXIS)), out_specs=P(AXIS))
    # Explicit output sharding: on a 1-device mesh shard_map would return P(), and
    # the step would then compile again for the batch's P('data'). The teacher's
    # lowering fixes its kernels at any batch (`Lowering.inference`).
    jitted = jax.jit(
        sharded,
        out_shardings=parallel.batch_sharding(mesh),
        compiler_options=plan.teacher_lowering.compiler_options(1),
    )
    return lambda teacher_vars, batch: jitted(teacher_vars, batch["template"], batch["search"])
