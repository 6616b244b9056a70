"""SGD with momentum and weight decay, log-linear learning-rate decay (SPEC section 6).

The learning rate decays geometrically from `lr_start` at the first step after
warm-up to `lr_end` at `num_steps` (the SiamFC recipe's per-epoch
ExponentialLR, per step): lr(s) = lr_start * (lr_end / lr_start)^((s - W) / (N - W)).
During the optional warm-up (W steps) it rises linearly from lr_start / W.
Weight decay is added to the gradient before momentum (PyTorch SGD); gradient
clipping (global norm) applies to the loss gradient first. `backbone_lr_scale`
multiplies the final updates of every parameter under a 'backbone' key (0: frozen),
the first `frozen_convs` backbone layers' updates are zero, and `reg_lr_scale`
multiplies those of each RPN model's regression tower (the branch's convs and their
BatchNorm before its output conv, under `models/<name>/head`).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import optax

from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.models.structure import head_output_of, output_conv
from dsiam_jax.train.settings import OptimSettings


def learning_rate_schedule(s: OptimSettings) -> optax.Schedule:
    """lr as a function of the step count (0 = the first update)."""
    decay_steps = s.num_steps - s.warmup_steps
    decay = optax.exponential_decay(
        init_value=s.lr_start,
        transition_steps=decay_steps,
        decay_rate=s.lr_end / s.lr_start,
    )
    if not s.warmup_steps:
        return decay
    warmup = optax.linear_schedule(s.lr_start / s.warmup_steps, s.lr_start, s.warmup_steps - 1)
    return optax.join_schedules([warmup, decay], [s.warmup_steps])


def make_optimizer(
    s: OptimSettings, specs: Mapping[str, ModelSpec] | None = None
) -> optax.GradientTransformation:
    """clip (optional) -> + weight_decay * param -> momentum -> -lr -> per-part factors.
    `specs` (the trained models by name) locate the regression towers of `reg_lr_scale`."""
    parts = []
    if s.grad_clip > 0:
        parts.append(optax.clip_by_global_norm(s.grad_clip))
    if s.weight_decay:
        parts.append(optax.add_decayed_weights(s.weight_decay))
    parts.append(optax.sgd(learning_rate_schedule(s), momentum=s.momentum or None))
    if s.backbone_lr_scale != 1.0 or s.frozen_convs or s.reg_lr_scale != 1.0:
        towers = regression_outputs(specs or {})
        parts.append(optax.stateless(lambda updates, params: scale_updates(updates, s, towers)))
    return optax.chain(*parts)


def regression_outputs(specs: Mapping[str, ModelSpec]) -> dict[str, tuple[str, ...]]:
    """Model name -> the path of its regression output conv (below the model), for the
    RPN models among `specs`."""
    return {
        name: output_conv(spec, "reg").path
        for name, spec in specs.items()
        if spec.kind == "siamrpn"
    }


def backbone_layer(path) -> int | None:
    """The backbone layer (1-5) a parameter path is in (`.../backbone/conv3/kernel`,
    `.../backbone/bn3/scale` -> 3), or None outside a backbone."""
    keys = [getattr(k, "key", None) for k in path]
    if "backbone" not in keys:
        return None
    name = keys[keys.index("backbone") + 1]
    return int(name.removeprefix("conv").removeprefix("bn"))


def scale_updates(updates, s: OptimSettings, reg_outputs: Mapping[str, tuple[str, ...]]):
    """`updates` with every backbone leaf times `s.backbone_lr_scale` (those of its
    first `s.frozen_convs` layers zero) and every leaf of an RPN model's regression
    tower times `s.reg_lr_scale`: under `models/<name>/head`, in the 'reg' branch, not
    in its output conv (`reg_outputs[name]`, from `regression_outputs`)."""

    def scale(path, u):
        layer = backbone_layer(path)
        if layer is not None:
            return u * (0.0 if layer <= s.frozen_convs else s.backbone_lr_scale)
        keys = [getattr(k, "key", None) for k in path]
        if len(keys) < 2 or keys[0] != "models" or keys[1] not in reg_outputs:
            return u
        below, out = keys[2:], reg_outputs[keys[1]]
        if head_output_of(below) == "reg" and tuple(below[: len(out)]) != out:
            return u * s.reg_lr_scale
        return u

    return jax.tree_util.tree_map_with_path(scale, updates)
