"""SGD with momentum and weight decay, log-linear learning-rate decay (SPEC section 6).

The learning rate decays geometrically from `lr_start` at the first step after
warm-up to `lr_end` at `num_steps` (the SiamFC recipe's per-epoch
ExponentialLR, per step): lr(s) = lr_start * (lr_end / lr_start)^((s - W) / (N - W)).
During the optional warm-up (W steps) it rises linearly from lr_start / W.
Weight decay is added to the gradient before momentum (PyTorch SGD); gradient
clipping (global norm) applies to the loss gradient first. `backbone_lr_scale`
multiplies the final updates of every parameter under a 'backbone' key (0: frozen),
the first `frozen_convs` backbone layers' updates are zero, and `reg_lr_scale` /
`cls_lr_scale` multiply those of each RPN model's regression / classification tower
(the branch's convs and their BatchNorm before its output conv, under
`models/<name>/head`).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import optax

from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.models.structure import tower_paths
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
    `specs` (the trained models by name) locate the towers of `reg_lr_scale` and
    `cls_lr_scale`."""
    parts = []
    if s.grad_clip > 0:
        parts.append(optax.clip_by_global_norm(s.grad_clip))
    if s.weight_decay:
        parts.append(optax.add_decayed_weights(s.weight_decay))
    parts.append(optax.sgd(learning_rate_schedule(s), momentum=s.momentum or None))
    if s.backbone_lr_scale != 1.0 or s.frozen_convs or s.tower_lr_scales():
        towers = rpn_towers(specs or {}, s)
        parts.append(optax.stateless(lambda updates, params: scale_updates(updates, s, towers)))
    return optax.chain(*parts)


def rpn_towers(
    specs: Mapping[str, ModelSpec], s: OptimSettings
) -> dict[str, dict[tuple[str, ...], float]]:
    """Model name -> {params path of a tower layer (below the model): its factor}, for
    the RPN models among `specs` and the towers whose factor `s` sets (not 1)."""
    return {
        name: {
            path: factor
            for output, factor in s.tower_lr_scales().items()
            for path in tower_paths(spec, output)
        }
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


def scale_updates(updates, s: OptimSettings, towers: Mapping[str, Mapping[tuple, float]]):
    """`updates` with every backbone leaf times `s.backbone_lr_scale` (those of its
    first `s.frozen_convs` layers zero) and every leaf of an RPN model's tower times its
    factor: under `models/<name>/<path>` for a path of `towers[name]` (`rpn_towers`)."""

    def scale(path, u):
        layer = backbone_layer(path)
        if layer is not None:
            return u * (0.0 if layer <= s.frozen_convs else s.backbone_lr_scale)
        keys = [getattr(k, "key", None) for k in path]
        if len(keys) < 2 or keys[0] != "models" or keys[1] not in towers:
            return u
        for layer_path, factor in towers[keys[1]].items():
            if tuple(keys[2 : 2 + len(layer_path)]) == layer_path:
                return u * factor
        return u

    return jax.tree_util.tree_map_with_path(scale, updates)
