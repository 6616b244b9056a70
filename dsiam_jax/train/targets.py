"""Training targets from the target box in the search crop (SPEC section 2).

Boxes are `(x, y, w, h)` in continuous search-crop pixels (`dsiam_jax.crops`); the
target centre is `(x + w/2, y + h/2)`. Response cell `(i, j)` looks at the crop point
`(S/2 + off[j], S/2 + off[i])` with `off = anchors.cell_offsets(R)` (the tracker uses
the same geometry). A negative pair (`negative=True`) has no target: nothing is
regressed and no cell / anchor is positive.

- SiamFC: a cell is positive when its distance to the target centre is at most
  `radius` crop pixels (16 = 2 cells at stride 8), negative otherwise; the
  balanced logistic loss gives positives and negatives half the weight each.
- SiamRPN: anchors with IoU > pos_iou are positive, IoU < neg_iou negative, the
  rest ignored; `num_samples` anchors are sampled per example with at most
  `max_pos` positives (the rest negatives); regression targets are the normalised
  offsets of `anchors.encode`. In a negative pair the box is the object the search
  crop is centred on (another video's): pysot draws its negatives (`neg_pair_samples`,
  16) from the anchors of the cells within `neg_pair_radius` cells (3: a 7 x 7 window)
  of that object's centre, so that the loss sees the wrong object score high, not
  background that positive pairs already label; `neg_pair_radius=-1` draws
  `num_samples` from the whole map.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax import anchors as anchors_lib


def box_center(box: jax.Array) -> jax.Array:
    """Centres `[..., 2]` of `(x, y, w, h)` boxes."""
    return box[..., :2] + box[..., 2:] / 2


def xywh_to_cxcywh(box: jax.Array) -> jax.Array:
    """`(x, y, w, h)` -> `(cx, cy, w, h)`."""
    return jnp.concatenate([box_center(box), box[..., 2:]], axis=-1)


def siamfc_labels(
    box: jax.Array,
    negative: jax.Array,
    size: int,
    search_size: int,
    radius: float,
    distance: str = "euclidean",
    stride: int = anchors_lib.STRIDE,
) -> jax.Array:
    """Positive-cell mask `[B, R, R]` (float 0/1) of the SiamFC logistic labels.

    Args:
      box: `[B, 4]` target boxes (x, y, w, h) in search-crop pixels.
      negative: `[B]` bool, negative pairs (all cells negative).
      size: response side R; `search_size`: crop side S.
      radius: positive radius in crop pixels; `distance`: 'euclidean' or 'l1'.
    """
    cells = jnp.asarray(anchors_lib.cell_offsets(size, stride) + search_size / 2, jnp.float32)
    center = box_center(box.astype(jnp.float32))  # [B, 2]
    dx = cells[None, None, :] - center[:, 0, None, None]  # [B, 1, R]
    dy = cells[None, :, None] - center[:, 1, None, None]  # [B, R, 1]
    if distance == "l1":
        dist = jnp.abs(dx) + jnp.abs(dy)
    else:
        dist = jnp.sqrt(dx * dx + dy * dy)  # [B, R, R]
    pos = (dist <= radius) & ~negative[:, None, None]
    return pos.astype(jnp.float32)


def balanced_weights(pos: jax.Array, neg: jax.Array) -> jax.Array:
    """Per-example weights: positives share 1/2, negatives 1/2; each example sums to 1.

    `pos`, `neg`: `[B, ...]` masks (disjoint). When one set is empty the other one
    carries the whole weight; an example with neither gets all-zero weights.
    """
    pos = pos.astype(jnp.float32)
    neg = neg.astype(jnp.float32)
    axes = tuple(range(1, pos.ndim))
    n_pos = jnp.sum(pos, axes, keepdims=True)
    n_neg = jnp.sum(neg, axes, keepdims=True)
    w = pos * (0.5 / jnp.maximum(n_pos, 1.0)) + neg * (0.5 / jnp.maximum(n_neg, 1.0))
    return w / jnp.maximum(jnp.sum(w, axes, keepdims=True), 1e-12)


def uniform_weights(mask: jax.Array) -> jax.Array:
    """Per-example weights `1 / count` on `mask` (a plain mean over the selected)."""
    mask = mask.astype(jnp.float32)
    axes = tuple(range(1, mask.ndim))
    return mask / jnp.maximum(jnp.sum(mask, axes, keepdims=True), 1.0)


def sample_mask(key: jax.Array, mask: jax.Array, count: jax.Array | int) -> jax.Array:
    """A uniformly random subset of at most `count` True entries of `mask` (any shape)."""
    flat = mask.reshape(-1)
    score = jnp.where(flat, jax.random.uniform(key, flat.shape), 2.0)
    rank = jnp.argsort(jnp.argsort(score))  # rank 0 = smallest score
    return (flat & (rank < count)).reshape(mask.shape)


def rpn_targets(
    keys: jax.Array,
    box: jax.Array,
    negative: jax.Array,
    anchors: np.ndarray | jax.Array,
    pos_iou: float = 0.6,
    neg_iou: float = 0.3,
    num_samples: int = 64,
    max_pos: int = 16,
    neg_pair_radius: int = 3,
    neg_pair_samples: int = 16,
) -> dict[str, jax.Array]:
    """Anchor targets of a batch.

    Args:
      keys: `[B]` PRNG keys (one per example: sampling is per example).
      box: `[B, 4]` target boxes (x, y, w, h) in search-crop pixels; in a negative
        pair, the box of the object the search crop shows instead.
      negative: `[B]` bool negative pairs.
      anchors: `[R, R, k, 4]` (cx, cy, w, h), `dsiam_jax.anchors.anchors_for`.
      neg_pair_radius: a negative pair's negatives come from the cells at most this
        many cells (per axis) from the cell nearest the box centre; -1 = any cell.
      neg_pair_samples: how many (at most) a negative pair samples from that window.

    Returns:
      `pos`, `neg`: `[B, R, R, k]` bool, the sampled positive / negative anchors;
      `delta`: `[B, R, R, k, 4]` normalised offsets (zero where not positive);
      `iou`: `[B, R, R, k]` IoU of every anchor with the target.
    """
    anchors = jnp.asarray(anchors, jnp.float32)

    def one(key, box, negative):
        target = xywh_to_cxcywh(box.astype(jnp.float32))
        target = target.at[2:].set(jnp.maximum(target[2:], 1e-3))  # no log(0) below
        iou = anchors_lib.iou_cxcywh(anchors, target)  # [R, R, k]
        iou = jnp.where(negative, 0.0, iou)
        k_pos, k_neg = jax.random.split(key)
        pos = sample_mask(k_pos, iou > pos_iou, max_pos)
        neg = sample_mask(k_neg, iou < neg_iou, num_samples - jnp.sum(pos))
        if neg_pair_radius >= 0:
            window = _cell_window(anchors, target[:2], neg_pair_radius)  # [R, R, k]
            neg = jnp.where(negative, sample_mask(k_neg, window, neg_pair_samples), neg)
        delta = anchors_lib.encode(jnp.broadcast_to(target, anchors.shape), anchors)
        delta = jnp.where(pos[..., None], delta, 0.0)  # [R, R, k, 4]
        return {"pos": pos, "neg": neg, "delta": delta, "iou": iou}

    return jax.vmap(one)(keys, box, negative)


def _cell_window(anchors: jax.Array, center: jax.Array, radius: int) -> jax.Array:
    """`[R, R, k]` mask of the anchors whose cell is at most `radius` cells (per axis)
    from the cell whose centre is nearest `center` (cx, cy)."""
    cell_x, cell_y = anchors[0, :, 0, 0], anchors[:, 0, 0, 1]  # [R], [R] cell centres
    col = jnp.abs(jnp.arange(cell_x.shape[0]) - jnp.argmin(jnp.abs(cell_x - center[0])))
    row = jnp.abs(jnp.arange(cell_y.shape[0]) - jnp.argmin(jnp.abs(cell_y - center[1])))
    inside = (row[:, None] <= radius) & (col[None, :] <= radius)  # [R, R]
    return jnp.broadcast_to(inside[..., None], anchors.shape[:3])
