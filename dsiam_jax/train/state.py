"""What is trained (`TrainPlan`) and the train state pytree (`TrainState`).

A plan holds the trained models (one teacher trained alone, or N students), the
optional frozen teacher (its spec; its variables are passed to the step as an
argument, never stored in the state), the crop geometry, the RPN anchors and the
loss / distillation / optimiser settings. Students share the teacher's kind, head
and anchors; only their channel lists (and optionally RPN head width) differ.

`TrainState` = step, per-model params and BatchNorm statistics, hint adapters
(trainable, but not part of any tracking model), the optax state over
`trainable(state) = {'models': params, 'adapters': adapters}`, and (config
`train.ema_decay` > 0) an exponential moving average of each model's variables,
which is what its checkpoints give trackers (`tracking_variables`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import flax.struct
import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from dsiam_jax import anchors as anchors_lib
from dsiam_jax import models as M
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.models.structure import output_conv
from dsiam_jax.train import losses, optim
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings

# Independent random streams derived from `key(config.seed)` with `fold_in`.
INIT_STREAM = 0  # initial variables (model i: fold_in(stream, i))
STEP_STREAM = 1  # per-step randomness: fold_in(fold_in(stream, step), example index)

# RPN: the reg branch's output conv starts at its He-normal draw times this (config
# model.reg_init_scale): initial box deltas of about the targets' size instead of std
# 1-4; +0.040 ± 0.018 success AUC at the students' widths, and the full-size
# up-channel teacher's regression term falls (studies/siamrpn/README.md section 16).
REG_INIT_SCALE = 0.1


class TrainState(flax.struct.PyTreeNode):
    """Everything that changes during training (replicated over the mesh)."""

    step: jax.Array  # int32 [], number of updates done
    params: dict[str, Any]  # {name: params}
    batch_stats: dict[str, Any]  # {name: BatchNorm running statistics}
    adapters: dict[str, Any]  # {name: 1x1 hint adapter}; {} when lambda_hint == 0
    opt_state: Any  # optax state of `trainable(state)`
    ema: dict[str, Any]  # {name: moving average of variables(name)}; {} when ema_decay == 0

    def trainable(self) -> dict[str, Any]:
        """The tree the optimiser updates."""
        return {"models": self.params, "adapters": self.adapters}

    def variables(self, name: str) -> dict[str, Any]:
        """`{'params', 'batch_stats'}` of one trained model (what a checkpoint stores)."""
        return {"params": self.params[name], "batch_stats": self.batch_stats[name]}

    def tracking_variables(self, name: str) -> dict[str, Any]:
        """What a checkpoint gives trackers: the moving average when there is one."""
        return self.ema[name] if self.ema else self.variables(name)

    def with_ema_reset(self) -> TrainState:
        """The state with its moving averages set to the current variables (a fresh
        start, or after `model.init_from` replaced them); unchanged without averages."""
        if not self.ema:
            return self
        copies = {name: jax.tree_util.tree_map(jnp.copy, self.variables(name)) for name in self.ema}
        return self.replace(ema=copies)  # own buffers: the step donates the state


def ema_decay_at(decay: float, updates: jax.Array) -> jax.Array:
    """The average's decay at its `updates`-th update (1 = the first): `decay`, ramped
    up as min(decay, (1 + n) / (10 + n)) (TensorFlow's ExponentialMovingAverage with
    num_updates), so a 3000-step run does not keep 5% of its initial weights (0.999^3000)."""
    n = jnp.asarray(updates, jnp.float32)
    return jnp.minimum(decay, (1.0 + n) / (10.0 + n))


def update_ema(ema: dict[str, Any], variables: dict[str, Any], decay: jax.Array) -> dict[str, Any]:
    """ema + (1 - decay) * (variables - ema), leaf by leaf."""
    return jax.tree_util.tree_map(lambda e, v: e + (1.0 - decay) * (v - e), ema, variables)


@dataclasses.dataclass(frozen=True, eq=False)
class TrainPlan:
    """The static description of a training run (closed over by the jitted step)."""

    specs: dict[str, M.ModelSpec]  # trained models, in order
    loss: LossSettings
    optim: OptimSettings
    template_size: int = 127
    search_size: int = 255
    distill: DistillSettings | None = None  # None: ground-truth training only
    teacher_spec: M.ModelSpec | None = None  # frozen teacher (distillation)
    seed: int = 0
    sync_batchnorm: bool = True  # BatchNorm statistics over the global batch
    # How the networks are computed on this job's backend (speed only; config
    # model.xcorr_impl / conv1_split / conv1_s2d / winograd / conv_library force its
    # fields). The trained models use `train_lowering`, the teacher `teacher_lowering`.
    lowering: M.Lowering = dataclasses.field(default_factory=M.Lowering.for_backend)
    # Precision of the networks' convs and activations, teacher included (config
    # train.compute_dtype); parameters, BatchNorm statistics, losses and the optimiser
    # stay float32.
    compute_dtype: str = "float32"
    # RPN: the reg branch's output conv's initial kernel factor (REG_INIT_SCALE; 1 = the
    # He-normal draw, 0 = every box starts at its anchor).
    reg_init_scale: float = REG_INIT_SCALE
    # RPN: the same factor for the cls branch's output conv (config model.cls_init_scale;
    # 0 with `model.init_from` a SiamFC and `model.rpn_cls_xcorr`: the classifier starts
    # as the source's response, see dsiam_jax/train/init_from.py).
    cls_init_scale: float = 1.0

    def __post_init__(self):
        for field in ("reg_init_scale", "cls_init_scale"):
            if not getattr(self, field) >= 0:
                raise ConfigError(f"model.{field}={getattr(self, field)} must be >= 0")
        if self.compute_dtype not in M.COMPUTE_DTYPES:
            raise ConfigError(
                f"train.compute_dtype={self.compute_dtype!r}: expected one of {M.COMPUTE_DTYPES}"
            )
        kinds = {s.kind for s in self.specs.values()}
        if self.teacher_spec is not None:
            kinds.add(self.teacher_spec.kind)
        if len(kinds) != 1:
            raise ValueError(f"trained models and teacher mix kinds {sorted(kinds)}")
        ks = {s.num_anchors for s in self.specs.values() if s.kind == "siamrpn"}
        if len(ks) > 1:
            raise ValueError(f"trained models disagree on the number of anchors {ks}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.specs)

    @property
    def first_spec(self) -> M.ModelSpec:
        return next(iter(self.specs.values()))

    @property
    def kind(self) -> str:
        return self.first_spec.kind

    @property
    def num_anchors(self) -> int:
        return self.first_spec.num_anchors

    @property
    def response_size(self) -> int:
        return anchors_lib.response_size(self.first_spec, self.template_size, self.search_size)

    @property
    def anchors(self) -> np.ndarray | None:
        """`[R, R, k, 4]` anchors (RPN) or None."""
        if self.kind != "siamrpn":
            return None
        return anchors_lib.anchors_for(self.first_spec, self.template_size, self.search_size)

    @property
    def uses_hint(self) -> bool:
        return (
            self.distill is not None
            and self.teacher_spec is not None
            and bool(self.distill.lambda_hint)
        )

    def model(self, name: str, training: bool = True) -> M.SiameseNet:
        """The Linen module of a trained model.

        For training, BatchNorm uses the cross-device axis (`sync_batchnorm`) and the
        two-pass batch variance: E[x^2] - E[x]^2 loses precision on raw 0..255 pixels
        (it made 1- and 4-device gradients differ by 1e-3 instead of 1e-5).
        """
        dtype = self.compute_dtype
        if not training:
            return M.build(self.specs[name], lowering=self.train_lowering, compute_dtype=dtype)
        axis = parallel.DATA_AXIS if self.sync_batchnorm else None
        return M.build(
            self.specs[name],
            bn_axis_name=axis,
            bn_fast_variance=False,
            lowering=self.train_lowering,
            compute_dtype=dtype,
            frozen_convs=self.optim.frozen_convs,
        )

    @property
    def train_lowering(self) -> M.Lowering:
        """The trained models' lowering (kernels by the widest conv: `Lowering.training`)."""
        widest = max(max(s.channels) for s in self.specs.values())
        return self.lowering.training(widest)

    @property
    def teacher_lowering(self) -> M.Lowering:
        """The frozen teacher's lowering (a forward pass at any batch: `Lowering.inference`)."""
        return self.lowering.inference()

    def teacher_model(self) -> M.SiameseNet:
        return M.build(
            self.teacher_spec, lowering=self.teacher_lowering, compute_dtype=self.compute_dtype
        )

    def optimizer(self):
        return optim.make_optimizer(self.optim, self.specs)


def student_specs(
    teacher: M.ModelSpec, channel_lists: Sequence[Sequence[int]], head_channels: int = 0
) -> list[M.ModelSpec]:
    """Students: the teacher's spec with other channel lists (and RPN head width)."""
    return [
        teacher.replace(channels=tuple(c), head_channels=int(head_channels)) for c in channel_lists
    ]


def init_state(plan: TrainPlan, key: jax.Array) -> TrainState:
    """Fresh variables (model i from `fold_in(key, i)`), adapters, optimiser state."""
    params, stats, adapters = {}, {}, {}
    for i, name in enumerate(plan.names):
        model = M.build(plan.specs[name], lowering=plan.train_lowering)
        v = M.init_variables(
            model, jax.random.fold_in(key, i), plan.template_size, plan.search_size
        )
        params[name] = v["params"]
        for output, scale in (("reg", plan.reg_init_scale), ("cls", plan.cls_init_scale)):
            params[name] = scale_output_init(plan.specs[name], params[name], output, scale)
        stats[name] = v.get("batch_stats", {})
        if plan.uses_hint:
            adapters[name] = losses.init_adapter(
                jax.random.fold_in(key, 1000 + i),
                plan.specs[name].channels[-1],
                plan.teacher_spec.channels[-1],
            )
    trainable = {"models": params, "adapters": adapters}
    state = TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        batch_stats=stats,
        adapters=adapters,
        opt_state=plan.optimizer().init(trainable),
        ema=dict.fromkeys(plan.names, {}) if plan.optim.ema_decay else {},
    )
    return state.with_ema_reset()


def scale_output_init(
    spec: M.ModelSpec, params: dict[str, Any], output: str, scale: float
) -> dict[str, Any]:
    """`params` with the kernel of the conv that makes the RPN's `output` map ('cls' or
    'reg': the branch's last conv after the correlation, else its template conv, whose
    correlation kernels the map is linear in) times `scale`; its bias is unchanged.
    'reg' at REG_INIT_SCALE: initial box deltas of about the targets' size (0.1-0.5)
    instead of He-normal's (std 1-4). Unchanged for SiamFC or scale 1."""
    if spec.kind != "siamrpn" or scale == 1.0:
        return params
    conv = output_conv(spec, output)
    kernel_path = (*conv.path[1:], "kernel")  # below 'head'
    flat = flax.traverse_util.flatten_dict(params["head"])
    flat[kernel_path] = flat[kernel_path] * scale
    return {**params, "head": flax.traverse_util.unflatten_dict(flat)}


def init_state_on_mesh(plan: TrainPlan, seed: int, mesh: Mesh) -> TrainState:
    """`init_state` from `seed`, computed under jit straight into replicated arrays."""
    key = jax.random.fold_in(jax.random.key(seed), INIT_STREAM)
    init = jax.jit(lambda: init_state(plan, key), out_shardings=parallel.replicated(mesh))
    return init()


def put_replicated(tree: Any, mesh: Mesh) -> Any:
    """Host arrays (the same on every process) -> arrays replicated over `mesh`."""
    sharding = parallel.replicated(mesh)

    def put(x):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree_util.tree_map(put, tree)
