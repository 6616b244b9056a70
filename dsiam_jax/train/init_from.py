"""`model.init_from`: start a network's backbone from a trained one, computing the same features.

    python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --workdir=W \
        --config.model.init_from=siamfc_teacher

The source is a checkpoint workdir, a `checkpoints/<step>` folder or a zoo name
(`checkpoints.load_models`), optionally `name@path` to pick one of its models
(default: the only one, or the one with role teacher). Its five AlexNet convs
(with their BatchNorms) fill the target's, layer by layer:

- **Ungrouping.** A grouped conv (SiamFC's groups 2) becomes the equivalent
  ungrouped conv: a block-diagonal kernel, zero between groups (`ungroup_kernel`).
- **Widening** (Net2WiderNet, Chen et al. 2016). A layer of n output channels
  becomes one of m >= n: target channel j copies source channel `copy_of[j]`
  (j for j < n; the extra channels draw source channels in seeded random order,
  each drawn once before any is drawn twice). Its kernel column, bias, BatchNorm
  scale / bias and running mean / var are copied, so after BatchNorm, ReLU and
  max-pool the copies carry the same values. The next conv's input weights of
  the copies of channel c are the source's input weights of c times `share[j]`,
  where the shares of c's copies sum to one, so that conv's output is unchanged.
  Chen et al. divide equally (`split='equal'`, share 1 / copies). Then the copies
  get equal gradients and stay equal under SGD (the fresh head only separates
  conv5's copies), so by default the shares are random (`split='random'`, drawn
  in U(0.5, 1.5) and normalised): the same function, and the copies' gradients
  differ from the first step on (their symmetry breaks without added noise).
- conv5's copies feed the head, which keeps the target's fresh initialisation, as
  does everything outside the backbone. A target BatchNorm after conv5 that the
  source lacks (SiamFC -> SiamRPN) keeps its fresh init (inference mode: x divided
  by sqrt(1 + eps)); a source one that the target lacks is folded into conv5.

So the widened backbone computes the source's features up to channel copying:
feature j of the target = feature `copy_of[j]` of the source (exactly, in
inference mode; `tests/test_init_from.py`).

**The matcher** (`init_matcher`). From a SiamFC source into an RPN with
`model.rpn_cls_xcorr` (SiamFC's correlation of the backbone features added to the
foreground logits), the correlation's per-anchor weight starts at the source's
response scale (out_scale over the branch's fixed scale, divided by the copies per
conv5 channel) and the foreground biases of the cls output conv at the source's
response bias. With `model.cls_init_scale=0` (the cls output conv's kernel starts at
zero) every anchor's foreground log-odds then start as the source's response at its
cell: the RPN's classifier starts as the trained SiamFC's matcher, where a random
head would start template-blind (studies/siamrpn/README.md section 27). Exact when
the target has no BatchNorm after conv5 that the source lacks (`model.final_bn=False`
for a SiamFC source; in training mode a fresh one standardises the features) and
conv5 is widened by a whole factor. A target narrower than the source in
any layer, or with another kernel size or stride, is a `ConfigError` naming the
layer; so is a grouped target layer that is not a plain copy of the same width.

Used at a fresh start only (`init_train_state`, called by the trainer when no
checkpoint exists; on resume the checkpoint wins): by mode=train for its model and by
mode=distill for its students (the teacher is loaded as it was trained). One source
fills every trained model, or a comma-separated list names one per model in order,
e.g. `--config.model.init_from=siamfc_student_0,siamfc_student_1` starts two RPN
students as the zoo's two SiamFC students (studies/siamrpn/README.md section 31).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import flax
import jax
import numpy as np
from absl import logging
from jax.sharding import Mesh

from dsiam_jax import checkpoints as ckpt
from dsiam_jax.errors import ConfigError
from dsiam_jax.export.fold import fold_conv
from dsiam_jax.models.spec import ModelSpec, TrackerModel
from dsiam_jax.models.structure import ConvLayer, structure
from dsiam_jax.train import state as state_lib
from dsiam_jax.train.settings import RunSettings

SPLITS = ("random", "equal")
FIELD = "model.init_from"


@dataclasses.dataclass(frozen=True)
class Widening:
    """How one layer's n source channels become its m target channels.

    Attributes:
      copy_of: `[m]` source channel of each target channel (`copy_of[:n] = arange(n)`).
      share: `[m]` fraction of its source channel's outgoing weights a copy carries
        (the shares of one source channel's copies sum to one).
    """

    copy_of: np.ndarray
    share: np.ndarray

    @classmethod
    def identity(cls, n: int) -> Widening:
        return cls(np.arange(n), np.ones(n))


def widening(n: int, m: int, rng: np.random.Generator, split: str = "random") -> Widening:
    """The copy map and outgoing shares of a layer widened from `n` to `m >= n` channels."""
    if m < n:
        raise ValueError(f"cannot widen {n} channels to {m}")
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {SPLITS}")
    rounds = -(-(m - n) // n)  # random permutations of the source channels, in turn
    extra = np.concatenate([rng.permutation(n) for _ in range(rounds)] or [np.zeros(0, int)])
    copy_of = np.concatenate([np.arange(n), extra[: m - n]]).astype(np.int64)
    weight = rng.uniform(0.5, 1.5, m) if split == "random" else np.ones(m)
    total = np.bincount(copy_of, weights=weight, minlength=n)  # [n]
    return Widening(copy_of, weight / total[copy_of])


def ungroup_kernel(kernel: np.ndarray, groups: int) -> np.ndarray:
    """Grouped HWIO kernel `[k, k, I/g, O]` -> the equivalent ungrouped `[k, k, I, O]`.

    Output channel o belongs to group o // (O/g) and reads only that group's inputs:
    the result is block-diagonal over (input, output) groups, zero elsewhere.
    """
    kernel = np.asarray(kernel)
    kh, kw, cin_g, cout = kernel.shape
    cout_g = cout // groups
    out = np.zeros((kh, kw, cin_g * groups, cout), kernel.dtype)
    for g in range(groups):
        ins, outs = slice(g * cin_g, (g + 1) * cin_g), slice(g * cout_g, (g + 1) * cout_g)
        out[:, :, ins, outs] = kernel[..., outs]
    return out


def widen_conv(
    kernel: np.ndarray, bias: np.ndarray, inputs: Widening, outputs: Widening
) -> tuple[np.ndarray, np.ndarray]:
    """An ungrouped conv `[k, k, n_in, n_out]` widened on both sides (see the module doc).

    Input channel i of the result reads source input `inputs.copy_of[i]`, scaled by
    `inputs.share[i]`; output channel j is source output `outputs.copy_of[j]`.
    """
    kernel = kernel[:, :, inputs.copy_of, :] * inputs.share[None, None, :, None]
    return kernel[..., outputs.copy_of], np.asarray(bias)[outputs.copy_of]


def check_compatible(source: ModelSpec, target: ModelSpec, source_name: str = "source") -> None:
    """Raises `ConfigError` naming the first backbone layer that cannot be initialised."""
    src, tgt = structure(source).backbone, structure(target).backbone
    if len(src) != len(tgt):
        raise ConfigError(
            f"{FIELD}: {source_name} has {len(src)} backbone convs, the target {len(tgt)}"
        )
    for s, t in zip(src, tgt, strict=True):
        where = f"{FIELD}: cannot initialise {t.name} from {source_name}"
        if (s.kernel, s.stride) != (t.kernel, t.stride):
            raise ConfigError(
                f"{where}: its kernel/stride is {s.kernel}x{s.kernel}/{s.stride} in the source "
                f"and {t.kernel}x{t.kernel}/{t.stride} in the target"
            )
        if t.out_channels < s.out_channels or t.in_channels < s.in_channels:
            raise ConfigError(
                f"{where}: the target is narrower ({t.in_channels} -> {t.out_channels} channels "
                f"against {s.in_channels} -> {s.out_channels}); widening only: every target "
                "layer must be at least as wide as the source's"
            )
        if t.groups > 1 and (t.groups, t.in_channels, t.out_channels) != (
            s.groups,
            s.in_channels,
            s.out_channels,
        ):
            raise ConfigError(
                f"{where}: the target conv is grouped (groups={t.groups}), so it can only be "
                f"copied from a source conv of the same widths and groups (source: groups="
                f"{s.groups}, {s.in_channels} -> {s.out_channels}); use model.groups=1 there"
            )


def backbone_widenings(
    source: ModelSpec,
    target: ModelSpec,
    seed: int | Sequence[int],
    split: str = "random",
    source_name: str = "source",
) -> tuple[Widening, ...]:
    """The `Widening` of each backbone conv, drawn from `seed` (raises like `check_compatible`)."""
    check_compatible(source, target, source_name)
    rng = np.random.default_rng(seed)
    pairs = zip(structure(source).backbone, structure(target).backbone, strict=True)
    return tuple(widening(s.out_channels, t.out_channels, rng, split) for s, t in pairs)


def _at(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _widened_layer(
    s: ConvLayer,
    t: ConvLayer,
    source: TrackerModel,
    target_eps: float,
    inputs: Widening,
    outputs: Widening,
):
    """(conv params, BatchNorm params, BatchNorm stats) of target layer `t` from source
    layer `s`; the BatchNorm entries are None where the target keeps its fresh ones."""
    params, stats = source.variables["params"], source.variables.get("batch_stats", {})
    conv = {k: np.asarray(v, np.float64) for k, v in _at(params, s.path).items()}
    if s.bn and not t.bn:  # fold the source BatchNorm into the conv (inference mode)
        folded = fold_conv(conv, _at(params, s.bn_path), _at(stats, s.bn_path), source.spec.bn_eps)
        conv = {"kernel": folded.weight.transpose(2, 3, 1, 0), "bias": folded.bias}
    kernel, bias = conv["kernel"], conv["bias"]
    if t.groups == 1:  # a grouped target is a plain copy (`check_compatible`)
        if s.groups > 1:
            kernel = ungroup_kernel(kernel, s.groups)
        kernel, bias = widen_conv(kernel, bias, inputs, outputs)
    bn_params = bn_stats = None
    if s.bn and t.bn:
        take = outputs.copy_of
        bn = _at(params, s.bn_path)
        bn_params = {k: np.asarray(bn[k])[take] for k in ("scale", "bias")}
        st = _at(stats, s.bn_path)
        # The same normalisation under the target's epsilon: var + eps is kept.
        var = np.asarray(st["var"], np.float64) + source.spec.bn_eps - target_eps
        bn_stats = {"mean": np.asarray(st["mean"])[take], "var": np.maximum(var, 0.0)[take]}
    return {"kernel": kernel, "bias": bias}, bn_params, bn_stats


def init_backbone(
    target_spec: ModelSpec,
    target_variables: Mapping[str, Any],
    source: TrackerModel,
    seed: int | Sequence[int],
    split: str = "random",
) -> dict[str, Any]:
    """`target_variables` with the backbone filled from `source` (ungrouped, widened).

    Everything outside `params['backbone']` / `batch_stats['backbone']` (the head)
    is returned as it is; a target BatchNorm without a source one keeps its values.
    The new arrays are float32 NumPy. Raises `ConfigError` naming the layer when the
    target cannot be initialised (see `check_compatible`).
    """
    widenings = backbone_widenings(source.spec, target_spec, seed, split, repr(source.name))
    params = dict(target_variables["params"])
    stats = dict(target_variables.get("batch_stats", {}))
    backbone_params = dict(params["backbone"])
    backbone_stats = dict(stats.get("backbone", {}))
    src_layers, tgt_layers = structure(source.spec).backbone, structure(target_spec).backbone
    inputs = Widening.identity(3)
    for s, t, outputs in zip(src_layers, tgt_layers, widenings, strict=True):
        conv, bn_params, bn_stats = _widened_layer(
            s, t, source, target_spec.bn_eps, inputs, outputs
        )
        new = {t.path[-1]: conv}
        if bn_params is not None:
            new[t.bn] = bn_params
            _check_shapes(backbone_stats[t.bn], bn_stats, f"{t.name} ({t.bn} stats)")
            backbone_stats[t.bn] = _float32(bn_stats)
        for name, tree in _float32(new).items():
            _check_shapes(backbone_params[name], tree, f"{t.name} ({name})")
            backbone_params[name] = tree
        inputs = outputs
    params["backbone"] = backbone_params
    if backbone_stats:
        stats["backbone"] = backbone_stats
    return {**target_variables, "params": params, "batch_stats": stats}


def init_matcher(
    target_spec: ModelSpec, target_params: Mapping[str, Any], source: TrackerModel
) -> dict[str, Any]:
    """`target_params` with the RPN's `cls_xcorr` weight and foreground biases from a
    SiamFC `source`'s response scale and bias (see the module doc). Returned unchanged
    for another source or target kind, a target without the branch, or a conv5 whose
    channels are not all copied equally often (a warning says which)."""
    branches = structure(target_spec).branches
    branch = next((b for b in branches if b.foreground_of), None)
    if source.spec.kind != "siamfc" or branch is None:
        return dict(target_params)
    n, m = source.spec.channels[-1], target_spec.channels[-1]
    if m % n:
        logging.warning(
            "%s: conv5 widened %d -> %d copies some channels more often than others: the "
            "RPN's feature correlation is not the source's response; its weight stays 1",
            FIELD,
            n,
            m,
        )
        return dict(target_params)
    if target_spec.final_bn and not structure(source.spec).backbone[-1].bn:
        logging.warning(
            "%s: the target's fresh BatchNorm after conv5 standardises the source's features "
            "in training: the classifier starts near, not at, the source's response "
            "(model.final_bn=False keeps it exact)",
            FIELD,
        )
    head = flax.traverse_util.flatten_dict(dict(target_params["head"]))
    k = target_spec.num_anchors
    weight = source.spec.out_scale / (branch.correlation_scale * (m // n))
    head[branch.weight_path[1:]] = np.full((k,), weight, np.float32)
    (cls,) = (b for b in branches if b.output == branch.foreground_of)
    if cls.after:  # the output conv's bias is the logits' own: foreground = channels k..2k
        bias_path = (*cls.after[-1].path[1:], "bias")
        bias = np.array(head[bias_path], np.float32)
        bias[k:] += float(np.asarray(source.variables["params"]["head"]["bias"]))
        head[bias_path] = bias
    return {**target_params, "head": flax.traverse_util.unflatten_dict(head)}


def _float32(tree):
    return jax.tree_util.tree_map(lambda x: np.asarray(x, np.float32), tree)


def _check_shapes(old: Mapping[str, Any], new: Mapping[str, Any], where: str) -> None:
    for key, value in new.items():
        if np.shape(old[key]) != value.shape:  # a bug, not user input
            raise AssertionError(f"{where}/{key}: {value.shape} != {np.shape(old[key])}")


def load_source(value: str) -> TrackerModel:
    """The model `value` names: `[name@]path` (path: workdir, checkpoints/<step>, zoo name).

    Without a name: the checkpoint's only model, or its one model with role teacher.
    """
    name, path = "", value
    if "@" in value and not os.path.exists(value):
        name, path = value.split("@", 1)
    try:
        models = ckpt.load_models(path)
    except ckpt.CheckpointError as e:
        raise ckpt.CheckpointError(f"{FIELD}: {e}") from e
    try:
        return ckpt.pick_model(models, name, path, f"as --config.{FIELD}=NAME@{path}")
    except ConfigError as e:
        raise ConfigError(f"{FIELD}={value!r}: {e}") from e


def init_train_state(
    run: RunSettings,
    plan: state_lib.TrainPlan,
    state: state_lib.TrainState,
    mesh: Mesh,
) -> state_lib.TrainState:
    """The trainer's fresh-start hook: every trained model's backbone from `model.init_from`
    (and, for an RPN with `rpn_cls_xcorr` from a SiamFC, its matcher: `init_matcher`).

    Returns `state` unchanged when the field is empty. Model i's source is
    `source_values(...)[i]` and its widening is drawn from `(run.seed, i)`; the
    optimiser state does not depend on the parameter values, so it is kept.
    """
    values = source_values(run.init_from, plan.names)
    if not values:
        return state
    sources = {value: load_source(value) for value in dict.fromkeys(values)}
    params, stats = dict(state.params), dict(state.batch_stats)
    for i, (name, value) in enumerate(zip(plan.names, values, strict=True)):
        source = sources[value]
        variables = init_backbone(
            plan.specs[name], state.variables(name), source, seed=(run.seed, i)
        )
        params[name] = {
            **state.params[name],
            "backbone": state_lib.put_replicated(variables["params"]["backbone"], mesh),
        }
        head = init_matcher(plan.specs[name], state.params[name], source)["head"]
        if head is not state.params[name]["head"]:  # only an RPN's matcher changes it
            params[name]["head"] = state_lib.put_replicated(jax.device_get(head), mesh)
        if "backbone" in variables["batch_stats"]:
            stats[name] = {
                **state.batch_stats[name],
                "backbone": state_lib.put_replicated(variables["batch_stats"]["backbone"], mesh),
            }
        logging.info(
            "%s: backbone %s initialised from %s (%s, backbone %s, step %s)",
            name,
            "-".join(map(str, plan.specs[name].channels)),
            value,
            source.name,
            "-".join(map(str, source.spec.channels)),
            source.info.get("step", "?"),
        )
    return state.replace(params=params, batch_stats=stats)


def source_values(value: str, names: Sequence[str]) -> list[str]:
    """The `model.init_from` source of each trained model in `names` ([] when empty):
    one value for all of them, or a comma-separated list of one per model."""
    if not value:
        return []
    values = [v.strip() for v in value.split(",")]
    if len(values) == 1:
        return values * len(names)
    if len(values) != len(names) or not all(values):
        raise ConfigError(
            f"{FIELD}={value!r}: {len(values)} comma-separated sources for {len(names)} "
            f"trained models ({', '.join(names)}): give one source for all, or one per model"
        )
    return values
