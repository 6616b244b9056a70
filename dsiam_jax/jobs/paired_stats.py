"""The statistics the jobs' reports state: mean ± spread over seeds, differences paired
by test sequence, and the two-standard-error rule that turns one into a verdict.

The pipeline report (`run_report`), the ablation sweep and the student search's
comparison all read these, so that "beyond twice its standard error" means the same
thing in every report.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any


def mean_std(values: Sequence[float | None]) -> tuple[float, float]:
    """Mean and sample standard deviation of the values that are not None
    (std 0 for one value; NaN, NaN for none)."""
    kept = [v for v in values if v is not None]
    if not kept:
        return float("nan"), float("nan")
    return statistics.fmean(kept), statistics.stdev(kept) if len(kept) > 1 else 0.0


def per_sequence_mean(
    trackers: Sequence[Mapping[str, Mapping[str, Any]]], metric: str = "success_auc"
) -> dict[str, dict[str, float | None]]:
    """Several trackers' per-sequence scores as one tracker's: `{sequence: {metric: mean
    over the trackers}}` for the sequences every tracker has (None where any tracker's
    value is None), in the first tracker's order."""
    out = {}
    for name in trackers[0]:
        if not all(name in t for t in trackers):
            continue
        values = [t[name].get(metric) for t in trackers]
        mean = None if any(v is None for v in values) else sum(values) / len(values)
        out[name] = {metric: mean}
    return out


def paired_difference(
    a: Sequence[Mapping[str, Mapping[str, Any]]],
    b: Mapping[str, Mapping[str, Any]],
    metric: str = "success_auc",
) -> tuple[float, float, int]:
    """Mean over sequences of (mean over the trackers of `a`) - `b`, its standard error, n.

    `a` holds one or more trackers' per-sequence scores and `b` one tracker's, each
    `{sequence: {metric: value}}` as in eval.json. A sequence counts when every tracker
    scored it (value not None). Pairing by sequence removes the sequence-to-sequence
    variation, so the standard error measures how consistent the difference is across
    sequences. SE is NaN for fewer than two sequences.
    """
    a_mean = per_sequence_mean(a, metric)
    diffs = []
    for name, scores in b.items():
        va = a_mean.get(name, {}).get(metric)
        if scores.get(metric) is None or va is None:
            continue
        diffs.append(va - scores[metric])
    n = len(diffs)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean, std = mean_std(diffs)
    return mean, std / n**0.5 if n > 1 else float("nan"), n


def beyond_two_se(diff: float, se: float) -> bool | None:
    """True when |diff| > 2 SE, False when within; None when SE is 0 or not finite
    (too few samples to judge the noise)."""
    if not math.isfinite(se) or se <= 0:
        return None
    return abs(diff) > 2 * se
