"""Response-map geometry and RPN anchors, shared by training targets and trackers.

Coordinates are continuous search-crop pixels: the crop covers [0, S] x [0, S] and
its centre is (S/2, S/2). Response cell (i, j) looks at the search window whose
centre is `S/2 + (j - (R-1)/2) * stride` horizontally (R = response size), the same
placement as pysot's anchors (offsets from the crop centre in steps of 8).
Anchor boxes are `(cx, cy, w, h)`; arrays are `[R, R, k, 4]`, matching the head's
output layout `[B, R, R, k]` (cls channel = class * k + anchor).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from dsiam_jax.models.alexnet import feature_size
from dsiam_jax.models.spec import ModelSpec

STRIDE = 8  # total stride of the AlexNet backbone


def response_size(spec: ModelSpec, template_size: int, search_size: int) -> int:
    """Side of the response / cls map for given crop sizes (17 for 127/255)."""
    size = feature_size(search_size) - feature_size(template_size) + 1
    if size <= 0:
        raise ValueError(
            f"search size {search_size} is too small for template size {template_size}"
        )
    return size


def cell_offsets(size: int, stride: int = STRIDE) -> np.ndarray:
    """Offsets `[size]` of response cells from the crop centre, in crop pixels."""
    return (np.arange(size, dtype=np.float64) - (size - 1) / 2) * stride


def anchor_shapes(
    ratios: Sequence[float], scales: Sequence[float], stride: int = STRIDE
) -> np.ndarray:
    """Anchor `(w, h)` pairs `[k, 2]`, ratio-major, with pysot's integer rounding."""
    shapes = []
    area = stride * stride
    for r in ratios:
        ws = int(math.sqrt(area / r))
        hs = int(ws * r)
        for s in scales:
            shapes.append((ws * s, hs * s))
    return np.asarray(shapes, np.float64)


def generate_anchors(
    size: int,
    search_size: int,
    ratios: Sequence[float],
    scales: Sequence[float],
    stride: int = STRIDE,
) -> np.ndarray:
    """Anchors `[size, size, k, 4]` as (cx, cy, w, h) in search-crop pixels."""
    offsets = cell_offsets(size, stride) + search_size / 2
    shapes = anchor_shapes(ratios, scales, stride)  # [k, 2]
    k = shapes.shape[0]
    cy, cx = np.meshgrid(offsets, offsets, indexing="ij")  # [R, R]
    anchors = np.empty((size, size, k, 4), np.float64)
    anchors[..., 0] = cx[..., None]
    anchors[..., 1] = cy[..., None]
    anchors[..., 2] = shapes[:, 0]
    anchors[..., 3] = shapes[:, 1]
    return anchors.astype(np.float32)


def anchors_for(spec: ModelSpec, template_size: int, search_size: int) -> np.ndarray:
    """The anchors of an RPN `spec` at the given crop sizes: `[R, R, k, 4]`."""
    size = response_size(spec, template_size, search_size)
    return generate_anchors(size, search_size, spec.anchor_ratios, spec.anchor_scales)


def encode(boxes: jnp.ndarray, anchors: jnp.ndarray) -> jnp.ndarray:
    """Regression targets (dx/wa, dy/ha, log w/wa, log h/ha) of cxcywh boxes."""
    d_xy = (boxes[..., :2] - anchors[..., :2]) / anchors[..., 2:]
    d_wh = jnp.log(boxes[..., 2:] / anchors[..., 2:])
    return jnp.concatenate([d_xy, d_wh], axis=-1)


def decode(deltas: jnp.ndarray, anchors: jnp.ndarray) -> jnp.ndarray:
    """Inverse of `encode`: cxcywh boxes from deltas `[..., 4]`."""
    xy = deltas[..., :2] * anchors[..., 2:] + anchors[..., :2]
    wh = jnp.exp(deltas[..., 2:]) * anchors[..., 2:]
    return jnp.concatenate([xy, wh], axis=-1)


def split_rpn_maps(cls: jnp.ndarray, reg: jnp.ndarray, num_anchors: int):
    """Head maps `[B, R, R, 2k]`, `[B, R, R, 4k]` -> `[B, R, R, k, 2]`, `[B, R, R, k, 4]`."""
    b, r1, r2, _ = cls.shape
    cls = jnp.moveaxis(cls.reshape(b, r1, r2, 2, num_anchors), 3, 4)
    reg = jnp.moveaxis(reg.reshape(b, r1, r2, 4, num_anchors), 3, 4)
    return cls, reg


def iou_cxcywh(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """IoU of cxcywh boxes (broadcasting over leading dims)."""
    a0, a1 = a[..., :2] - a[..., 2:] / 2, a[..., :2] + a[..., 2:] / 2
    b0, b1 = b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2
    wh = jnp.clip(jnp.minimum(a1, b1) - jnp.maximum(a0, b0), 0.0)
    inter = wh[..., 0] * wh[..., 1]
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    return inter / jnp.maximum(union, 1e-12)
