"""Tracking metrics with the conventions of the public toolkits.

Boxes are `[N, 4]` (x, y, w, h). Which frames count:

- *annotated*: ground truth finite with w > 0 and h > 0 (test splits and LaSOT
  absent frames carry no usable box and are left out).
- OTB-style numbers (`success_auc`, `precision_20`, `norm_precision`) use every
  annotated frame including frame 1, whose predicted box is the initial box
  (the got10k toolkit's ExperimentOTB sets it to the ground truth). Per sequence:
  - success curve: fraction of frames with IoU *strictly above* each of 21
    thresholds `linspace(0, 1, 21)`; `success_auc` = mean of the curve;
  - precision curve: fraction of frames with centre error <= t px, t = 0..50;
    `precision_20` = the value at 20 px. Centres are x + (w - 1)/2 as in the OTB
    toolkits (the -1/2 cancels in the error);
  - `norm_precision`: centre error with both centres divided by the ground-truth
    (w, h) (TrackingNet / LaSOT, pytracking's convention), fraction <= 0.2.
  Over a dataset: curves averaged over sequences, scores read off the mean curve.
- GOT-10k numbers (`ao`, `sr50`, `sr75`): frames 2..N that are annotated and
  visible (absent frames excluded); IoU after clipping both boxes to the image
  (the toolkit's `bound`); `ao` = mean IoU, `sr50`/`sr75` = fraction with IoU
  strictly above 0.5 / 0.75. Over a dataset the toolkit pools the IoUs of all
  frames of all sequences (frame-weighted), and so do we.

The above is `convention="got10k"` (the default). The OTB-style numbers can be
scored as other toolkits do (`CONVENTIONS`; the GOT-10k numbers never change).
All use the 21 thresholds with IoU `>` t, centre error `<=` t, centres x + (w-1)/2
and per-sequence curves averaged over sequences; they differ in which frames
count and what the fractions are taken over:

- `pysot` (pysot-toolkit, `evaluation/ope_benchmark.py`, `utils/statistics.py`):
  frames whose target is absent (`visible` False) are dropped but still counted
  in the denominator (all frames of the sequence). IoU only where all four
  ground-truth numbers x, y, w, h are > 0 (else no success); centre error only
  where both ground-truth centre coordinates are > 0, else -1, i.e. counted as
  a precision *success* (also unannotated frames). Normalised centres are divided
  by the ground-truth (w, h) + 1e-16. The predicted first box is used as written.
- `pytracking` (pytracking, `analysis/extract_results.py`): the first predicted
  box is replaced by the ground truth; a prediction of zero width or height is
  replaced by the previous frame's; valid frames: ground truth w > 0 and h > 0
  and visible. Invalid frames: IoU -1 (no success), centre error inf (no
  success) but normalised centre error -1 (a success). The denominator is the
  number of valid frames, except for LaSOT (`dataset="lasot"`, and UAV), where it
  is all frames, and invisible frames get infinite centre errors of both kinds.
- `lasot` (official LaSOT toolkit, `utils/calc_seq_err_robust.m`,
  `eval_tracker.m`, `plot_draw_save.m`): predictions that are not finite or have
  w <= 0 or h <= 0 are replaced by the previous frame's; the first predicted box
  by the ground truth; absent frames dropped but counted in the denominator (all
  frames); IoU only where all four ground-truth numbers are > 0 (else -1), and
  centre errors of those other frames -1 (a success). Over a dataset, sequences
  whose curve sums to 0 are left out of that curve's mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsiam_jax.errors import ConfigError

SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)  # OTB: 21 IoU thresholds
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)  # px
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64) / 100.0
CONVENTIONS = {
    "got10k": "got10k toolkit ExperimentOTB (default): annotated frames only, frame 1 as "
    "predicted, fractions over the annotated frames",
    "pysot": "pysot-toolkit OPEBenchmark: fractions over all frames; IoU where gt x,y,w,h > 0; "
    "frames without a positive gt centre count as precision successes",
    "pytracking": "pytracking extract_results: frame 1 = gt; fractions over valid frames "
    "(all frames for LaSOT); invalid frames: no IoU/centre success, normalised success",
    "lasot": "official LaSOT toolkit: frame 1 = gt; absent frames dropped but counted; "
    "fractions over all frames; all-zero sequence curves left out of the mean",
}


def rect_iou(a: np.ndarray, b: np.ndarray, bound: tuple[float, float] | None = None) -> np.ndarray:
    """IoU `[N]` of (x, y, w, h) boxes `[N, 4]`, as the got10k toolkit's `rect_iou`.

    With `bound = (W, H)` both boxes are first clipped to the image (GOT-10k).
    Degenerate or non-finite boxes give IoU 0.
    """
    a = np.array(a, np.float64).reshape(-1, 4)
    b = np.array(b, np.float64).reshape(-1, 4)
    if bound is not None:
        for r in (a, b):
            r[:, 0] = np.clip(r[:, 0], 0, bound[0])
            r[:, 1] = np.clip(r[:, 1], 0, bound[1])
            r[:, 2] = np.clip(r[:, 2], 0, bound[0] - r[:, 0])
            r[:, 3] = np.clip(r[:, 3], 0, bound[1] - r[:, 1])
    x0 = np.maximum(a[:, 0], b[:, 0])
    y0 = np.maximum(a[:, 1], b[:, 1])
    x1 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y1 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(x1 - x0, 0) * np.maximum(y1 - y0, 0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (union + np.finfo(float).eps)
    return np.clip(np.nan_to_num(iou, nan=0.0), 0.0, 1.0)


def _centers(r: np.ndarray) -> np.ndarray:
    return r[:, :2] + (r[:, 2:] - 1) / 2


def center_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centre distance `[N]` in px (OTB toolkit centres x + (w-1)/2); inf if not finite."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    err = np.sqrt(np.sum((_centers(a) - _centers(b)) ** 2, axis=-1))
    return np.where(np.isfinite(err), err, np.inf)


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre distance `[N]` after dividing both centres by the ground-truth (w, h)."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (_centers(pred) - _centers(gt)) / gt[:, 2:]
        err = np.sqrt(np.sum(d**2, axis=-1))
    return np.where(np.isfinite(err), err, np.inf)


def annotated(gt: np.ndarray) -> np.ndarray:
    """`[N]` bool: ground truth is finite with positive width and height."""
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    with np.errstate(invalid="ignore"):
        return np.isfinite(gt).all(axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)


def success_curve(ious: np.ndarray, thresholds: np.ndarray = SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with IoU strictly above each threshold."""
    ious = np.asarray(ious, np.float64)
    if ious.size == 0:
        return np.full(len(thresholds), np.nan)
    return np.mean(ious[:, None] > thresholds[None, :], axis=0)


def precision_curve(errors: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of frames with error at most each threshold."""
    errors = np.asarray(errors, np.float64)
    if errors.size == 0:
        return np.full(len(thresholds), np.nan)
    return np.mean(errors[:, None] <= thresholds[None, :], axis=0)


def _all_positive(values: np.ndarray) -> np.ndarray:
    """`[N]` bool: every entry of a row is > 0 (NaN is not)."""
    with np.errstate(invalid="ignore"):
        return np.all(np.nan_to_num(values, nan=-1.0) > 0, axis=1)


def _repair(pred: np.ndarray, gt: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Predictions with `bad` rows replaced by the previous row (where gt is finite)."""
    pred = pred.copy()
    gt_finite = np.isfinite(gt).all(axis=1)
    for i in range(1, len(pred)):
        if bad[i] and gt_finite[i]:
            pred[i] = pred[i - 1]
    return pred


def convention_frames(
    pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, convention: str, dataset: str = ""
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """What a toolkit's OTB-style curves count (module docstring), as
    `(ious, center_errors, norm_errors, denominator)`: the curves are
    `#(ious > t) / denominator` and `#(errors <= t) / denominator`."""
    n = len(gt)
    if convention == "got10k":
        ok = annotated(gt)
        p, g = pred[ok], gt[ok]
        return rect_iou(p, g), center_error(p, g), normalized_center_error(p, g), int(ok.sum())
    if convention == "pysot":
        p, g = pred[visible], gt[visible]
        ious = np.full(len(g), -1.0)
        iou_ok = _all_positive(g)
        ious[iou_ok] = rect_iou(p[iou_ok], g[iou_ok])
        errors = []
        for scale in (np.ones_like(g[:, 2:]), g[:, 2:] + 1e-16):
            with np.errstate(invalid="ignore", divide="ignore"):
                gc, pc = _centers(g) / scale, _centers(p) / scale
            err = np.full(len(g), -1.0)
            ok = _all_positive(gc)
            err[ok] = np.sqrt(np.sum((gc[ok] - pc[ok]) ** 2, axis=1))
            errors.append(np.nan_to_num(err, nan=np.inf))
        return ious, errors[0], errors[1], n
    if convention == "pytracking":
        pred = pred.copy()
        pred[0] = gt[0]
        pred = _repair(pred, gt, np.any(pred[:, 2:] == 0, axis=1))
        valid = annotated(gt) & visible
        ious = np.where(valid, rect_iou(pred, gt), -1.0)
        err = np.where(valid, center_error(pred, gt), -1.0 if dataset == "uav" else np.inf)
        norm = np.where(valid, normalized_center_error(pred, gt), -1.0)
        if dataset == "lasot":
            err[~visible], norm[~visible] = np.inf, np.inf
        return ious, err, norm, n if dataset in ("lasot", "uav") else int(valid.sum())
    if convention == "lasot":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(pred).all(axis=1) | np.any(pred[:, 2:] <= 0, axis=1)
        pred = _repair(pred, gt, bad)
        pred[0] = gt[0]
        p, g = pred[visible], gt[visible]
        ok = _all_positive(g)
        ious = np.where(ok, rect_iou(p, g), -1.0)
        err = np.where(ok, center_error(p, g), -1.0)
        norm = np.where(ok, normalized_center_error(p, g), -1.0)
        return ious, err, norm, n
    raise ConfigError(f"eval.convention={convention!r}: expected one of {', '.join(CONVENTIONS)}")


def _fraction_curve(hits: np.ndarray, denominator: int, size: int) -> np.ndarray:
    """`[T]` counts `hits [M, T]` over `denominator` (NaN when it is 0)."""
    if denominator <= 0:
        return np.full(size, np.nan)
    return np.sum(hits, axis=0) / float(denominator)


def sequence_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    image_size: tuple[float, float] | None = None,
    convention: str = "got10k",
    dataset: str = "",
) -> dict:
    """Every metric of one sequence (see the module docstring for the conventions).

    Args:
      pred: `[N, 4]` predicted boxes; row 0 is the initial box.
      gt: `[N, 4]` ground truth (NaN rows = not annotated).
      visible: `[N]` target-present flags (None = all visible).
      image_size: (W, H) for the GOT-10k clipping (None = no clipping).
      convention: whose OTB-style numbers (`CONVENTIONS`); GOT-10k numbers are fixed.
      dataset: the sequence's dataset (`Sequence.dataset`; pytracking treats LaSOT apart).
    Returns a dict of curves (lists) and scores (floats; NaN when no frame counts).
    """
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    if pred.shape != gt.shape:
        raise ValueError(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes")
    n = len(gt)
    visible = np.ones(n, bool) if visible is None else np.asarray(visible, bool)
    ious, errors, norm_errors, denominator = convention_frames(
        pred, gt, visible, convention, dataset
    )
    succ = _fraction_curve(
        ious[:, None] > SUCCESS_THRESHOLDS[None, :], denominator, len(SUCCESS_THRESHOLDS)
    )
    prec = _fraction_curve(
        errors[:, None] <= PRECISION_THRESHOLDS[None, :], denominator, len(PRECISION_THRESHOLDS)
    )
    norm = _fraction_curve(
        norm_errors[:, None] <= NORM_PRECISION_THRESHOLDS[None, :],
        denominator,
        len(NORM_PRECISION_THRESHOLDS),
    )
    ok = annotated(gt)
    got = ok & visible
    got[0] = False
    got_ious = rect_iou(pred[got], gt[got], bound=image_size)
    nan = float("nan")
    return {
        "frames": n,
        "success_curve": succ.tolist(),
        "precision_curve": prec.tolist(),
        "norm_precision_curve": norm.tolist(),
        "success_auc": float(np.mean(succ)),
        "precision_20": float(prec[20]),
        "norm_precision": float(norm[20]),
        "got_ious": got_ious.tolist(),
        "ao": float(np.mean(got_ious)) if got_ious.size else nan,
        "sr50": float(np.mean(got_ious > 0.5)) if got_ious.size else nan,
        "sr75": float(np.mean(got_ious > 0.75)) if got_ious.size else nan,
    }


def aggregate(per_sequence: Sequence[dict], convention: str = "got10k") -> dict:
    """Dataset scores from `sequence_metrics` results (OTB: mean curves; GOT: pooled IoUs).

    Sequences whose curve is undefined (NaN) are left out of its mean; with the
    `lasot` convention also those whose curve is all zero (the LaSOT toolkit).
    """
    if convention not in CONVENTIONS:
        raise ConfigError(
            f"eval.convention={convention!r}: expected one of {', '.join(CONVENTIONS)}"
        )

    def mean_curve(key: str) -> np.ndarray:
        curves = np.asarray([s[key] for s in per_sequence], np.float64)
        curves = curves[~np.isnan(curves).any(axis=1)] if len(curves) else curves
        if convention == "lasot" and len(curves):
            curves = curves[curves.sum(axis=1) > np.finfo(float).eps]
        return curves.mean(axis=0) if len(curves) else np.full(1, np.nan)

    succ = mean_curve("success_curve")
    prec = mean_curve("precision_curve")
    norm = mean_curve("norm_precision_curve")
    ious = np.concatenate([np.asarray(s["got_ious"], np.float64) for s in per_sequence] or [[]])
    nan = float("nan")
    return {
        "sequences": len(per_sequence),
        "success_curve": succ.tolist(),
        "precision_curve": prec.tolist(),
        "norm_precision_curve": norm.tolist(),
        "success_auc": float(np.mean(succ)),
        "precision_20": float(prec[20]) if len(prec) > 20 else nan,
        "norm_precision": float(norm[20]) if len(norm) > 20 else nan,
        "ao": float(np.mean(ious)) if ious.size else nan,
        "sr50": float(np.mean(ious > 0.5)) if ious.size else nan,
        "sr75": float(np.mean(ious > 0.75)) if ious.size else nan,
        "success_thresholds": SUCCESS_THRESHOLDS.tolist(),
        "precision_thresholds": PRECISION_THRESHOLDS.tolist(),
    }
