"""Every loss term as a pure function returning one value per example (`[B]`).

Per-example values averaged over the batch make the data-parallel step exact: the
mean of per-device means equals the mean over the global batch (SPEC sections 2, 4, 5).

Ground truth:
- `siamfc_gt_loss`: balanced logistic loss of the response map.
- `rpn_cls_loss`, `rpn_reg_loss`: softmax cross-entropy on the sampled anchors and
  smooth-L1 on the positives' normalised offsets.
- `rpn_rank_loss`: -log of the positives' share of a softmax over the whole map.
Distillation:
- `soft_loss` (with `binary_kl` / `categorical_kl` and `background_weights`):
  T^2 * sum_u w_u KL(p_teacher,u || p_student,u) / sum_u w_u.
- `bounded_regression`: mean over positives of [e_s + m > e_b] * e_s, where e is
  the squared L2 regression error and b the bound (teacher or peer, no gradient).
- `hint_loss`: squared error between an adapted student feature and the teacher's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dsiam_jax.train import targets as targets_lib


def _example_axes(x: jax.Array) -> tuple[int, ...]:
    return tuple(range(1, x.ndim))


def sigmoid_bce(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Elementwise binary cross-entropy of logits against 0/1 (or soft) labels."""
    return jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))


def siamfc_gt_loss(response: jax.Array, pos: jax.Array) -> jax.Array:
    """Balanced logistic loss `[B]`: response `[B, R, R]` logits, pos `[B, R, R]` 0/1."""
    weights = targets_lib.balanced_weights(pos, 1.0 - pos)
    return jnp.sum(weights * sigmoid_bce(response, pos), _example_axes(response))


def rpn_cls_loss(cls: jax.Array, pos: jax.Array, neg: jax.Array, balanced: bool = True):
    """Cross-entropy `[B]` of cls logits `[B, R, R, k, 2]` (class 1 = target) on sampled anchors.

    `balanced`: positives and negatives each carry half the weight (pysot);
    otherwise a plain mean over the sampled anchors (the SiamRPN paper).
    """
    log_p = jax.nn.log_softmax(cls, axis=-1)  # [B, R, R, k, 2]
    ce = -jnp.where(pos, log_p[..., 1], log_p[..., 0])  # [B, R, R, k]
    if balanced:
        weights = targets_lib.balanced_weights(pos, neg)
    else:
        weights = targets_lib.uniform_weights(pos | neg)
    return jnp.sum(weights * ce, _example_axes(ce))


def rpn_rank_loss(fg_logit: jax.Array, pos: jax.Array, neg: jax.Array) -> jax.Array:
    """Ranking loss `[B]`: -log(sum_P e^f / sum_{P or N} e^f) over every anchor.

    `fg_logit`: `[B, R, R, k]` foreground log-odds; `pos` / `neg`: the labelled
    positive / negative anchors (all of them, not a sample; the ignored band stays out).
    Low only when the target's anchors outscore every negative, the distractors'
    included, which a loss on sampled anchors rarely sees. 0 for an example
    without positives (a negative pair).
    """
    b = fg_logit.shape[0]
    f = fg_logit.reshape(b, -1)
    pos, neg = pos.reshape(b, -1), neg.reshape(b, -1)
    lse_all = jax.nn.logsumexp(jnp.where(pos | neg, f, -jnp.inf), axis=-1)
    lse_pos = jax.nn.logsumexp(jnp.where(pos, f, -jnp.inf), axis=-1)
    has_pos = jnp.any(pos, -1)
    return jnp.where(has_pos, lse_all - jnp.where(has_pos, lse_pos, 0.0), 0.0)


def smooth_l1(x: jax.Array, beta: float) -> jax.Array:
    """Huber-style smooth L1: 0.5 x^2 / beta for |x| < beta, else |x| - 0.5 beta."""
    ax = jnp.abs(x)
    if beta <= 0:
        return ax
    return jnp.where(ax < beta, 0.5 * ax * ax / beta, ax - 0.5 * beta)


def _mean_over_positives(value: jax.Array, pos: jax.Array) -> jax.Array:
    """Per-example mean of `value [B, ...]` over `pos`; 0 for an example without positives."""
    pos = pos.astype(value.dtype)
    axes = _example_axes(value)
    return jnp.sum(value * pos, axes) / jnp.maximum(jnp.sum(pos, axes), 1.0)


def rpn_reg_loss(
    reg: jax.Array, delta: jax.Array, pos: jax.Array, beta: float, form: str = "smooth_l1"
) -> jax.Array:
    """Box loss `[B]` of reg `[B, R, R, k, 4]` vs targets, averaged over each example's
    positive anchors: smooth-L1 summed over the 4 offsets (`form='smooth_l1'`), or
    1 - GIoU of the two boxes they decode to (`form='giou'`, `delta_giou`)."""
    if form == "giou":
        per_anchor = 1.0 - delta_giou(reg, delta)  # [B, R, R, k]
    else:
        per_anchor = jnp.sum(smooth_l1(reg - delta, beta), -1)  # [B, R, R, k]
    return _mean_over_positives(per_anchor, pos)


def delta_giou(a: jax.Array, b: jax.Array, max_log_scale: float = 6.0) -> jax.Array:
    """Generalised IoU `[...]` of the boxes that deltas `a`, `b` `[..., 4]` (dx, dy,
    log w, log h) decode to on the same anchor.

    IoU and GIoU do not change when both boxes are scaled per axis, so the anchor drops
    out: the boxes are (dx, dy, e^dw, e^dh) in units of the anchor's width and height.
    Log sizes are clipped to +-max_log_scale (the tracker's clip) before exp.
    """

    def corners(d):
        wh = jnp.exp(jnp.clip(d[..., 2:], -max_log_scale, max_log_scale))
        return d[..., :2] - wh / 2, d[..., :2] + wh / 2, wh

    lo_a, hi_a, wh_a = corners(a)
    lo_b, hi_b, wh_b = corners(b)
    inter = jnp.prod(jnp.clip(jnp.minimum(hi_a, hi_b) - jnp.maximum(lo_a, lo_b), 0.0), -1)
    union = jnp.prod(wh_a, -1) + jnp.prod(wh_b, -1) - inter
    hull = jnp.prod(jnp.maximum(hi_a, hi_b) - jnp.minimum(lo_a, lo_b), -1)
    return inter / union - (hull - union) / hull


def binary_kl(teacher_logits: jax.Array, student_logits: jax.Array, temperature: float):
    """Elementwise KL(Bernoulli(sigmoid(t/T)) || Bernoulli(sigmoid(s/T)))."""
    t = teacher_logits / temperature
    s = student_logits / temperature
    p = jax.nn.sigmoid(t)
    ls = jax.nn.log_sigmoid
    return p * (ls(t) - ls(s)) + (1 - p) * (ls(-t) - ls(-s))


def categorical_kl(teacher_logits: jax.Array, student_logits: jax.Array, temperature: float):
    """KL(softmax(t/T) || softmax(s/T)) over the last axis: `[..., C]` -> `[...]`."""
    log_p = jax.nn.log_softmax(teacher_logits / temperature, axis=-1)
    log_q = jax.nn.log_softmax(student_logits / temperature, axis=-1)
    return jnp.sum(jnp.exp(log_p) * (log_p - log_q), -1)


def background_weights(
    gt_background: jax.Array, teacher_fg: jax.Array, beta: float, rho: float
) -> jax.Array:
    """`beta` where a position is background for the ground truth and the teacher
    (teacher foreground probability below `rho`), 1 elsewhere."""
    return jnp.where(gt_background & (teacher_fg < rho), beta, 1.0)


def balanced_weights(gt_background: jax.Array, weights: jax.Array) -> jax.Array:
    """`weights` rescaled per example so that the label's positives and its background
    each carry half the total (as the ground-truth loss weighs them); the relative
    weights within each set are kept. An example without positives keeps its weights."""
    axes = _example_axes(weights)
    fg = jnp.where(gt_background, 0.0, weights)
    bg = jnp.where(gt_background, weights, 0.0)
    fg_sum = jnp.sum(fg, axes, keepdims=True)
    bg_sum = jnp.maximum(jnp.sum(bg, axes, keepdims=True), 1e-12)
    has_fg = fg_sum > 0
    balanced = 0.5 * fg / jnp.maximum(fg_sum, 1e-12) + 0.5 * bg / bg_sum
    return jnp.where(has_fg, balanced, weights)


def spatial_kl(teacher_logits: jax.Array, student_logits: jax.Array, temperature: float):
    """KL between spatial softmax distributions, per example: `[B, ...]` -> `[B]`.

    Each example's map (every position, and every anchor for RPN) is one
    distribution softmax(logits / T) over its cells, as in channel-wise distillation
    for dense prediction (Shu et al., ICCV 2021): it carries where the teacher's
    peaks and distractor responses are relative to each other, and is blind to a
    constant offset of the logits (the bias a balanced loss puts on every cell).
    """
    b = teacher_logits.shape[0]
    log_p = jax.nn.log_softmax(teacher_logits.reshape(b, -1) / temperature, axis=-1)
    log_q = jax.nn.log_softmax(student_logits.reshape(b, -1) / temperature, axis=-1)
    return jnp.sum(jnp.exp(log_p) * (log_p - log_q), -1)


def soft_loss(kl: jax.Array, weights: jax.Array, temperature: float) -> jax.Array:
    """T^2 * sum_u w_u kl_u / sum_u w_u per example: `[B, ...]` -> `[B]`."""
    axes = _example_axes(kl)
    total = jnp.sum(weights * kl, axes) / jnp.maximum(jnp.sum(weights, axes), 1e-12)
    return temperature**2 * total


def bounded_regression(
    student_reg: jax.Array,
    bound_reg: jax.Array,
    delta: jax.Array,
    pos: jax.Array,
    margin: float = 0.0,
) -> jax.Array:
    """Teacher-bounded regression `[B]` (Chen et al. 2017).

    e_s = ||student - target||^2 and e_b = ||bound - target||^2 per anchor
    (`[B, R, R, k, 4]` inputs); the student is penalised by e_s only where
    e_s + margin > e_b. The bound gets no gradient.
    """
    bound_reg = jax.lax.stop_gradient(bound_reg)
    e_s = jnp.sum(jnp.square(student_reg - delta), -1)  # [B, R, R, k]
    e_b = jnp.sum(jnp.square(bound_reg - delta), -1)
    active = jax.lax.stop_gradient(e_s + margin > e_b)
    return _mean_over_positives(jnp.where(active, e_s, 0.0), pos)


def init_adapter(key: jax.Array, in_channels: int, out_channels: int) -> dict[str, jax.Array]:
    """A 1x1 conv (He-normal kernel `[Cs, Ct]`, zero bias) from student to teacher width."""
    scale = jnp.sqrt(2.0 / in_channels)
    kernel = scale * jax.random.normal(key, (in_channels, out_channels), jnp.float32)
    return {"kernel": kernel, "bias": jnp.zeros((out_channels,), jnp.float32)}


def adapt(adapter: dict[str, jax.Array], feature: jax.Array) -> jax.Array:
    """Applies a 1x1 adapter: `[B, H, W, Cs]` -> `[B, H, W, Ct]`."""
    return jnp.einsum("bhwc,cd->bhwd", feature, adapter["kernel"]) + adapter["bias"]


def hint_loss(adapted: jax.Array, teacher_feature: jax.Array) -> jax.Array:
    """Mean squared error `[B]` between an adapted student feature and the teacher's."""
    diff = adapted - jax.lax.stop_gradient(teacher_feature)
    return jnp.mean(jnp.square(diff), _example_axes(diff))
