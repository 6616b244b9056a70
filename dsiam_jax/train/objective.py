"""The training objective of every trained model, term by term (SPEC sections 2, 4, 5).

For each trained model `name` (a teacher trained alone, or student i):

    total = gt + lambda_cls * soft + lambda_reg * bound + lambda_hint * hint + gamma * share

with the terms logged unweighted as `<name>/gt` (RPN: also `gt_cls`, `gt_reg`,
gt = gt_cls + loc_weight * gt_reg [+ rank_weight * gt_rank]
[+ center_weight * gt_center]), `<name>/soft`, `<name>/bound` (RPN),
`<name>/hint`, `<name>/share` and `<name>/total`. A term whose weight is 0 (or,
for `share`, with fewer than two students or `distill.share=False`) is neither
computed nor logged, so each can be switched off for an ablation.

Sharing: share_i = sum_{j != i} c_ij * (KL(sg(p_j) || p_i) + share_reg_weight *
bounded_regression(i, bound=j)), with c_ij = 1 when peer j's ground-truth loss on
the (global) batch is lower than student i's, else alpha. sg = stop-gradient: a
student never receives gradient through its peer.

`reduce` turns per-example values `{key: [B]}` into batch means `{key: scalar}`;
inside the data-parallel step it also averages over devices, so every value here
is a global-batch mean.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp

from dsiam_jax import anchors as anchors_lib
from dsiam_jax.train import losses
from dsiam_jax.train.settings import DistillSettings, LossSettings

Reduce = Callable[[dict[str, jax.Array]], dict[str, jax.Array]]


def batch_mean(values: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """The single-device `reduce`: mean over the batch axis."""
    return {k: jnp.mean(v) for k, v in values.items()}


@dataclasses.dataclass
class Prediction:
    """A network's output in the layout the losses use."""

    logits: jax.Array  # SiamFC [B, R, R]; RPN [B, R, R, k, 2]
    reg: jax.Array | None  # RPN [B, R, R, k, 4]
    features: jax.Array  # search feature [B, 22, 22, C]

    def foreground(self) -> jax.Array:
        """Foreground probability per position (`[B, R, R]` or `[B, R, R, k]`)."""
        if self.reg is None:
            return jax.nn.sigmoid(self.logits)
        return jax.nn.softmax(self.logits, axis=-1)[..., 1]


def prediction(outputs: Mapping[str, jax.Array], num_anchors: int) -> Prediction:
    """Wraps `models.forward` outputs (`response`, or `cls`/`reg`, and `features`)."""
    if "response" in outputs:
        return Prediction(outputs["response"], None, outputs["features"])
    cls, reg = anchors_lib.split_rpn_maps(outputs["cls"], outputs["reg"], num_anchors)
    return Prediction(cls, reg, outputs["features"])


def gt_terms(pred: Prediction, targets: Mapping[str, jax.Array], loss: LossSettings):
    """Ground-truth loss per example: `{'gt'}` (SiamFC) or `{'gt', 'gt_cls', 'gt_reg'}`
    (and `gt_rank` / `gt_center` when `loss.rpn_rank_weight` / `rpn_center_weight`
    is not 0)."""
    if pred.reg is None:
        return {"gt": losses.siamfc_gt_loss(pred.logits, targets["pos"])}
    cls = losses.rpn_cls_loss(pred.logits, targets["pos"], targets["neg"], loss.rpn_cls_balanced)
    reg = losses.rpn_reg_loss(
        pred.reg, targets["delta"], targets["pos"], loss.rpn_smooth_l1_beta, loss.rpn_reg_form
    )
    terms = {"gt": cls + loss.rpn_loc_weight * reg, "gt_cls": cls, "gt_reg": reg}
    if loss.rpn_rank_weight:
        iou = targets["iou"]  # every anchor, not the sampled ones
        rank = losses.rpn_rank_loss(
            foreground_logit(pred), iou > loss.rpn_pos_iou, iou < loss.rpn_neg_iou
        )
        terms["gt"] = terms["gt"] + loss.rpn_rank_weight * rank
        terms["gt_rank"] = rank
    if loss.rpn_center_weight:
        cell = jnp.max(foreground_logit(pred), axis=-1)  # [B, R, R] best anchor per cell
        center = losses.siamfc_gt_loss(cell, targets["center_pos"])
        terms["gt"] = terms["gt"] + loss.rpn_center_weight * center
        terms["gt_center"] = center
    return terms


def kl_map(teacher: Prediction, student: Prediction, temperature: float) -> jax.Array:
    """Per-position KL(teacher || student) at `temperature` (`[B, R, R]` or `[B, R, R, k]`)."""
    t = jax.lax.stop_gradient(teacher.logits)
    if student.reg is None:
        return losses.binary_kl(t, student.logits, temperature)
    return losses.categorical_kl(t, student.logits, temperature)


def foreground_logit(pred: Prediction) -> jax.Array:
    """Log-odds of foreground per position (`[B, R, R]` or `[B, R, R, k]`)."""
    if pred.reg is None:
        return pred.logits
    return pred.logits[..., 1] - pred.logits[..., 0]


def soft_term(teacher: Prediction, student: Prediction, pos: jax.Array, d: DistillSettings):
    """Soft loss per example: background-suppressed pointwise KL, or the spatial KL."""
    if d.soft_form == "spatial":
        t = jax.lax.stop_gradient(foreground_logit(teacher))
        kl = losses.spatial_kl(t, foreground_logit(student), d.temperature)
        return d.temperature**2 * kl
    gt_background = pos <= 0
    weights = losses.background_weights(
        gt_background, jax.lax.stop_gradient(teacher.foreground()), d.beta, d.rho
    )
    if d.soft_balanced:
        weights = losses.balanced_weights(gt_background, weights)
    return losses.soft_loss(kl_map(teacher, student, d.temperature), weights, d.temperature)


def share_term(
    student: Prediction,
    peers: Sequence[Prediction],
    weights: Sequence[jax.Array],
    targets: Mapping[str, jax.Array],
    d: DistillSettings,
) -> jax.Array:
    """sum_j c_ij * (peer KL + share_reg_weight * peer-bounded regression), per example."""
    total = 0.0
    for peer, c in zip(peers, weights, strict=True):
        kl = kl_map(peer, student, d.share_temperature)
        term = losses.soft_loss(kl, jnp.ones_like(kl), d.share_temperature)
        if student.reg is not None and d.share_reg_weight:
            term = term + d.share_reg_weight * losses.bounded_regression(
                student.reg, peer.reg, targets["delta"], targets["pos"], d.margin
            )
        total = total + c * term
    return total


def objective(
    outputs: Mapping[str, Mapping[str, jax.Array]],
    targets: Mapping[str, jax.Array],
    *,
    num_anchors: int,
    loss: LossSettings,
    distill: DistillSettings | None = None,
    teacher_outputs: Mapping[str, jax.Array] | None = None,
    adapters: Mapping[str, Mapping[str, jax.Array]] | None = None,
    reduce: Reduce = batch_mean,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Sum of every trained model's total loss, and all logged terms (global-batch means).

    Args:
      outputs: `{name: forward outputs}` of the trained models (in this order).
      targets: `targets.siamfc_labels` as `{'pos'}` or `targets.rpn_targets`.
      num_anchors: k of the RPN head (ignored for SiamFC).
      distill: the distillation settings; None trains on the ground truth alone.
      teacher_outputs: the frozen teacher's outputs (distillation only).
      adapters: `{name: 1x1 adapter}` for the hint loss (when lambda_hint != 0).
      reduce: per-example values -> batch means (see module docstring).
    """
    preds = {name: prediction(out, num_anchors) for name, out in outputs.items()}
    names = list(preds)
    per_example: dict[str, jax.Array] = {}
    for name, pred in preds.items():
        for term, value in gt_terms(pred, targets, loss).items():
            per_example[f"{name}/{term}"] = value

    if distill is not None:
        d = distill
        teacher = prediction(teacher_outputs, num_anchors) if teacher_outputs else None
        sharing = d.share and d.gamma != 0 and len(names) >= 2
        if sharing:  # who is better on this batch (global-batch GT loss, no gradient)
            gt = reduce({n: jax.lax.stop_gradient(per_example[f"{n}/gt"]) for n in names})
        for name, pred in preds.items():
            if teacher is not None and d.lambda_cls:
                per_example[f"{name}/soft"] = soft_term(teacher, pred, targets["pos"], d)
            if teacher is not None and d.lambda_reg and pred.reg is not None:
                per_example[f"{name}/bound"] = losses.bounded_regression(
                    pred.reg, teacher.reg, targets["delta"], targets["pos"], d.margin
                )
            if teacher is not None and d.lambda_hint:
                adapted = losses.adapt(adapters[name], pred.features)
                per_example[f"{name}/hint"] = losses.hint_loss(adapted, teacher.features)
            if sharing:
                peers = [p for p in names if p != name]
                c = [jnp.where(gt[p] < gt[name], 1.0, d.alpha) for p in peers]
                per_example[f"{name}/share"] = share_term(
                    pred, [preds[p] for p in peers], c, targets, d
                )

    terms = reduce(per_example)
    weights = {"gt": 1.0}
    if distill is not None:
        weights.update(
            soft=distill.lambda_cls,
            bound=distill.lambda_reg,
            hint=distill.lambda_hint,
            share=distill.gamma,
        )
    total = 0.0
    for name in names:
        model_total = sum(
            weights[t] * terms[f"{name}/{t}"] for t in weights if f"{name}/{t}" in terms
        )
        terms[f"{name}/total"] = model_total
        total = total + model_total
    return total, terms
