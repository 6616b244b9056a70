"""VOT regions: polygons (a rotated box's 4 corners) and their overlap with predicted boxes.

A *region* is 8 numbers `(x1, y1, x2, y2, x3, y3, x4, y4)`, the corners of a
polygon in order (VOT2016-2019 ground truth), or 4 numbers `(x, y, w, h)`, an
axis-aligned rectangle (converted with `rect_to_polygon`). `[N, 8]` arrays hold
one region per frame; a row of NaN (or of zeros) is an empty region.

`region_overlap` is the VOT toolkit's overlap (intersection over union of the two
regions, both first cut to the image rectangle `[0, W] x [0, H]` when `bounds` is
given, as `vot_overlap(..., bounds)` in the VOT toolkit and pysot-toolkit). The
toolkit's C library rasterises the polygons on the pixel grid; here the areas
are exact (convex clipping, shoelace area), so values differ from the toolkit's
by the fraction of boundary pixels only.
"""

from __future__ import annotations

import numpy as np


def rect_to_polygon(box: np.ndarray) -> np.ndarray:
    """Corners `[8]` (top-left, top-right, bottom-right, bottom-left) of an (x, y, w, h) box."""
    x, y, w, h = np.asarray(box, np.float64).reshape(4)
    return np.asarray([x, y, x + w, y, x + w, y + h, x, y + h], np.float64)


def as_regions(values: np.ndarray) -> np.ndarray:
    """`[N, 8]` polygons from `[N, 4]` boxes or `[N, 8]` polygons (rows kept in order)."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or values.shape[1] not in (4, 8):
        raise ValueError(f"regions must be [N, 4] or [N, 8], got shape {values.shape}")
    if values.shape[1] == 8:
        return values
    return np.stack([rect_to_polygon(b) for b in values]) if len(values) else np.zeros((0, 8))


def polygon_area(points: np.ndarray) -> float:
    """Area of a simple polygon `[K, 2]` (shoelace formula; 0 for fewer than 3 points)."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def clip_to_rect(points: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """The part `[K, 2]` of polygon `points` inside the rectangle [x0, x1] x [y0, y1].

    Sutherland-Hodgman clipping against the rectangle's four half-planes; exact for
    any simple polygon clipped by a convex region (the area is right even where the
    result has degenerate edges).
    """
    poly = [tuple(p) for p in np.asarray(points, np.float64).reshape(-1, 2)]
    # Each half-plane: (coordinate index, bound, keep values >= bound?).
    for axis, bound, keep_above in ((0, x0, True), (0, x1, False), (1, y0, True), (1, y1, False)):
        if not poly:
            break

        def inside(p, axis=axis, bound=bound, keep_above=keep_above):
            return p[axis] >= bound if keep_above else p[axis] <= bound

        out = []
        for k, cur in enumerate(poly):
            prev = poly[k - 1]
            if inside(cur) != inside(prev):  # the edge crosses the boundary
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                cross = (prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1]))
                out.append(cross)
            if inside(cur):
                out.append(cur)
        poly = out
    return np.asarray(poly, np.float64).reshape(-1, 2)


def is_empty(region: np.ndarray) -> bool:
    """True for a region that marks no target (non-finite, or of zero area)."""
    r = np.asarray(region, np.float64).reshape(-1)
    if not np.all(np.isfinite(r)):
        return True
    return polygon_area((rect_to_polygon(r) if r.size == 4 else r).reshape(-1, 2)) <= 0


def region_overlap(
    box: np.ndarray, region: np.ndarray, bounds: tuple[float, float] | None = None
) -> float:
    """IoU of an (x, y, w, h) box with a region (8-number polygon or 4-number box).

    With `bounds = (W, H)` both are cut to the image `[0, W] x [0, H]` first (VOT).
    NaN when the region is empty (no ground truth: the overlap is unknown); 0 for a
    box that is not finite or has no area.
    """
    region = np.asarray(region, np.float64).reshape(-1)
    gt = (rect_to_polygon(region) if region.size == 4 else region).reshape(-1, 2)
    if is_empty(gt.reshape(-1)):
        return float("nan")
    b = np.asarray(box, np.float64).reshape(4)
    if not np.all(np.isfinite(b)) or b[2] <= 0 or b[3] <= 0:
        return 0.0
    bx0, by0, bx1, by1 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    if bounds is not None:
        gt = clip_to_rect(gt, 0.0, 0.0, float(bounds[0]), float(bounds[1]))
        bx0, by0 = max(bx0, 0.0), max(by0, 0.0)
        bx1, by1 = min(bx1, float(bounds[0])), min(by1, float(bounds[1]))
    box_area = max(bx1 - bx0, 0.0) * max(by1 - by0, 0.0)
    gt_area = polygon_area(gt)
    inter = polygon_area(clip_to_rect(gt, bx0, by0, bx1, by1)) if box_area > 0 else 0.0
    union = box_area + gt_area - inter
    return float(np.clip(inter / union, 0.0, 1.0)) if union > 0 else 0.0
