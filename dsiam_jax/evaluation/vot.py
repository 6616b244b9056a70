"""The VOT short-term supervised (reset) protocol and its measures: accuracy, robustness, EAO.

As VOT2016-2019 define them (Kristan et al., "The Visual Object Tracking VOT2016
challenge results", and the VOT toolkit; pysot-toolkit's `test.py`,
`utils/statistics.py` and `evaluation/{ar,eao}_benchmark.py` re-implement them in
Python). Written from those definitions, not copied.

Protocol (`run_supervised`): the tracker starts on the ground truth of the first
frame; in every later frame its box is compared with the ground-truth region
(`regions.region_overlap`, both cut to the image). Overlap 0 is a *failure*; the
tracker is re-initialised on the ground truth `skip_initialize` (5) frames later
(on the first frame from there whose ground truth is not empty); the frames in
between are not tracked. Per-frame records in the VOT toolkit's encoding:
`1` (initialisation), `2` (failure), `0` (skipped), else the predicted box.

Measures over a dataset (`vot_scores`):
- accuracy: per sequence, the mean overlap over the tracked frames, leaving out
  the `burnin` (10) frames starting at each (re)initialisation (the initial frame
  and the 9 after it, as the toolkits' `calculate_accuracy` masks them) and
  failure frames; then the mean over sequences (VOT). `accuracy_pooled` is the
  frame-pooled mean that pysot-toolkit's AR benchmark prints.
- failures: the total number of failures; robustness: failures per 100 frames
  (100 * failures / frames, pysot-toolkit's "Robustness").
- EAO (`expected_overlap_curve`, `expected_average_overlap`): every
  (re)initialisation starts a sub-sequence that runs to the next failure
  (included) or to the end of the sequence. Overlaps of the initial and the
  failure frame count as 0; a sub-sequence that ends in a failure is padded with
  0 to the longest sequence length (the tracker would not have recovered), one
  that reaches the end is not extended. The expected overlap of length Ns is the
  mean, over the sub-sequences at least Ns frames long (after padding), of their
  average overlap over frames 2..Ns (the initial frame left out; Phi_1 = 1, as
  pysot-toolkit's `calculate_expected_overlap`). EAO is the mean of that curve
  over Ns in [low, high], the interval `eao_interval` derives from the sequence
  lengths (the VOT toolkit's `estimate_evaluation_interval`), or a configured one
  (VOT2016: [108, 371]; VOT2017-2019: [100, 356]). pysot-toolkit differs in one
  corner: a failure fewer than `skip_initialize` frames before the end does not
  zero-pad its sub-sequence there; here every failed sub-sequence is padded.

Scores are computed from the runs in memory (float64 boxes); the record files
hold the boxes with 4 decimals.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from dsiam_jax.evaluation.regions import as_regions, is_empty, region_overlap

INIT, FAILURE, SKIPPED = 1, 2, 0  # the VOT toolkit's special records
TRACKED = -1  # our code for a frame with a predicted box (the record is the box)
SKIP_INITIALIZE = 5
BURNIN = 10


class SupervisedTracker(Protocol):
    """What the reset protocol drives: one target, re-initialisable at any frame."""

    def init(self, frame: np.ndarray, box: np.ndarray) -> None:
        """Starts (or restarts) tracking the (x, y, w, h) `box` in `frame`."""

    def update(self, frame: np.ndarray) -> np.ndarray:
        """Tracks into the next frame; returns its (x, y, w, h) box `[4]`."""


@dataclasses.dataclass
class SupervisedRun:
    """One sequence tracked under the reset protocol.

    Attributes:
      codes: `[N]` int: INIT, FAILURE, SKIPPED or TRACKED per frame.
      boxes: `[N, 4]` float64 predicted (x, y, w, h); NaN where no box is recorded.
      times: `[N]` float64 seconds of init / update per frame (NaN when skipped).
      image_sizes: `[N, 2]` (W, H) of the frames that were read (0 when skipped).
    """

    codes: np.ndarray
    boxes: np.ndarray
    times: np.ndarray
    image_sizes: np.ndarray

    def update_times(self) -> np.ndarray:
        """Seconds of the `update` calls (tracked and failure frames), in frame order."""
        return self.times[np.isin(self.codes, (TRACKED, FAILURE))]

    @property
    def failures(self) -> int:
        """Number of failures."""
        return int(np.sum(self.codes == FAILURE))

    def records(self) -> list[str]:
        """Per-frame lines in the VOT toolkit's encoding (`1`, `2`, `0` or `x,y,w,h`)."""
        return [
            ",".join(f"{v:.4f}" for v in box) if code == TRACKED else str(int(code))
            for code, box in zip(self.codes, self.boxes)
        ]


def parse_records(lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`(codes [N], boxes [N, 4])` from lines in the VOT toolkit's encoding."""
    codes = np.full(len(lines), TRACKED, np.int64)
    boxes = np.full((len(lines), 4), np.nan)
    for i, line in enumerate(lines):
        values = [float(v) for v in line.replace(",", " ").split()]
        if len(values) == 1:
            codes[i] = int(values[0])
        elif len(values) == 4:
            boxes[i] = values
        else:
            raise ValueError(f"record {i + 1}: expected 1 or 4 numbers, got {line!r}")
    return codes, boxes


def write_records(path: str | pathlib.Path, run: SupervisedRun) -> None:
    """Writes a run's records, one line per frame (the VOT toolkit's `<seq>_001.txt`)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(run.records()) + "\n")


def run_supervised(
    tracker: SupervisedTracker,
    load: Callable[[int], np.ndarray],
    init_boxes: np.ndarray,
    regions: np.ndarray,
    skip_initialize: int = SKIP_INITIALIZE,
) -> SupervisedRun:
    """Runs `tracker` over frames `load(0..N-1)` under the reset protocol.

    Args:
      tracker: `init(frame, box)` / `update(frame) -> box` (e.g. `runner.StepTracker`).
      load: frame loader, RGB uint8 `[H, W, 3]`; skipped frames are never loaded.
      init_boxes: `[N, 4]` (x, y, w, h) boxes the tracker is (re)initialised with
        (for polygons, the reader's axis-aligned box of the same centre and area).
      regions: `[N, 8]` (or `[N, 4]`) ground-truth regions a failure is judged on.
      skip_initialize: frames from a failure to the re-initialisation.
    A frame whose region is empty (no ground truth) is never a failure; an
    initialisation due on such a frame moves to the next frame with a region.
    """
    regions = as_regions(regions)  # [N, 8]
    n = len(regions)
    if len(init_boxes) != n:
        raise ValueError(f"{len(init_boxes)} initial boxes for {n} regions")
    if skip_initialize < 1:
        raise ValueError(f"skip_initialize={skip_initialize}: must be >= 1")
    codes = np.full(n, SKIPPED, np.int64)
    boxes = np.full((n, 4), np.nan)
    times = np.full(n, np.nan)
    sizes = np.zeros((n, 2), np.int64)
    next_init = 0
    for i in range(n):
        if i < next_init:
            continue  # skipped after a failure: not read, not tracked
        if i == next_init and is_empty(regions[i]):
            next_init += 1  # nothing to initialise on yet
            continue
        frame = np.asarray(load(i))
        sizes[i] = frame.shape[1], frame.shape[0]
        t0 = time.perf_counter()
        if i == next_init:
            tracker.init(frame, np.asarray(init_boxes[i], np.float64))
            times[i] = time.perf_counter() - t0
            codes[i] = INIT
            continue
        box = np.asarray(tracker.update(frame), np.float64).reshape(4)
        times[i] = time.perf_counter() - t0
        overlap = region_overlap(box, regions[i], bounds=tuple(sizes[i]))
        if overlap > 0 or math.isnan(overlap):
            codes[i], boxes[i] = TRACKED, box
        else:
            codes[i] = FAILURE
            next_init = i + skip_initialize
    return SupervisedRun(codes, boxes, times, sizes)


def frame_overlaps(run: SupervisedRun, regions: np.ndarray) -> np.ndarray:
    """`[N]` overlap of every tracked frame with its region (cut to the image); NaN elsewhere."""
    out = np.full(len(run.codes), np.nan)
    for i in np.flatnonzero(run.codes == TRACKED):
        out[i] = region_overlap(run.boxes[i], regions[i], bounds=tuple(run.image_sizes[i]))
    return out


def accuracy_mask(codes: np.ndarray, overlaps: np.ndarray, burnin: int = BURNIN) -> np.ndarray:
    """`[N]` bool: frames accuracy counts (tracked, known overlap, outside every burn-in)."""
    mask = (np.asarray(codes) == TRACKED) & np.isfinite(overlaps)
    for s in np.flatnonzero(np.asarray(codes) == INIT):
        mask[s : s + burnin] = False
    return mask


def subsequences(codes: np.ndarray, overlaps: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """`(overlaps, ended_in_failure)` of each sub-sequence from a (re)initialisation.

    The overlaps run from the initial frame to the next failure (included) or the
    end; the initial and failure frames (and unknown overlaps) count as 0.
    """
    codes = np.asarray(codes)
    values = np.nan_to_num(np.asarray(overlaps, np.float64), nan=0.0)
    out = []
    for s in np.flatnonzero(codes == INIT):
        after = np.flatnonzero(codes[s + 1 :] == FAILURE)
        end = s + 1 + int(after[0]) if len(after) else len(codes) - 1
        segment = values[s : end + 1].copy()  # [end - s + 1]
        segment[0] = 0.0
        out.append((segment, bool(len(after))))
    return out


def expected_overlap_curve(fragments: list[tuple[np.ndarray, bool]], max_length: int) -> np.ndarray:
    """`[max_length]`: entry Ns-1 is the expected average overlap of length Ns (Phi_Ns).

    Failed sub-sequences are zero-padded to `max_length`; Phi_1 = 1; NaN for a length
    no sub-sequence reaches.
    """
    table = np.full((len(fragments), max_length), np.nan)  # [K, L]
    for k, (values, failed) in enumerate(fragments):
        values = values[:max_length]
        if failed:
            table[k] = 0.0
        table[k, : len(values)] = values
    curve = np.full(max_length, np.nan)
    if max_length == 0 or not fragments:
        return curve
    curve[0] = 1.0
    sums = np.cumsum(np.nan_to_num(table[:, 1:]), axis=1)  # [K, L-1]: frames 2..Ns
    for ns in range(2, max_length + 1):
        reach = ~np.isnan(table[:, ns - 1])
        if reach.any():
            curve[ns - 1] = float(np.mean(sums[reach, ns - 2] / (ns - 1)))
    return curve


def expected_average_overlap(curve: np.ndarray, low: int, high: int) -> float:
    """Mean of `curve` (entry Ns-1 = Phi_Ns) over Ns in [low, high] (lengths it has)."""
    values = np.asarray(curve, np.float64)[max(low, 1) - 1 : max(high, 0)]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def eao_interval(lengths: Any, mass: float = 0.5) -> tuple[int, int, int]:
    """`(low, high, peak)`: the range of sequence lengths around the mode of their
    density that holds `mass` of it (the VOT toolkit's `estimate_evaluation_interval`).

    The density is a Gaussian kernel density of the lengths (bandwidth by MATLAB
    ksdensity's normal rule: sigma * (4 / 3n)^(1/5), sigma = median absolute
    deviation / 0.6745; 1 frame when the lengths do not vary), tabulated at
    1..max(lengths) and normalised. The range grows from the mode one frame at a
    time towards the side with the higher density (both sides on a tie) until it
    holds `mass`. The toolkit fits its kernel density differently (a Gaussian
    mixture), so its published intervals can differ by a few frames.
    """
    x = np.asarray(lengths, np.float64).reshape(-1)
    if x.size == 0 or np.any(x < 1):
        raise ValueError("eao_interval needs at least one sequence length >= 1")
    sigma = np.median(np.abs(x - np.median(x))) / 0.6745
    bandwidth = sigma * (4.0 / (3.0 * x.size)) ** 0.2 if sigma > 0 else 1.0
    grid = np.arange(1, int(x.max()) + 1, dtype=np.float64)  # [L]
    density = np.exp(-0.5 * ((grid[:, None] - x[None, :]) / bandwidth) ** 2).sum(axis=1)
    density /= density.sum()
    peak = int(np.argmax(density))
    low = high = peak
    while density[low : high + 1].sum() < mass:
        left = density[low - 1] if low > 0 else -1.0
        right = density[high + 1] if high + 1 < len(density) else -1.0
        if left >= right and low > 0:
            low -= 1
        if right >= left and high + 1 < len(density):
            high += 1
    return low + 1, high + 1, peak + 1


def sequence_scores(run: SupervisedRun, regions: np.ndarray, burnin: int = BURNIN) -> dict:
    """One sequence: frames, failures, accuracy (NaN when no frame counts), its overlaps."""
    overlaps = frame_overlaps(run, regions)
    mask = accuracy_mask(run.codes, overlaps, burnin)
    return {
        "frames": len(run.codes),
        "failures": run.failures,
        "accuracy": float(overlaps[mask].mean()) if mask.any() else float("nan"),
        "accuracy_frames": int(mask.sum()),
        "overlaps": overlaps,
    }


def vot_scores(
    runs: Mapping[str, SupervisedRun],
    regions: Mapping[str, np.ndarray],
    interval: tuple[int, int] | None = None,
    burnin: int = BURNIN,
) -> dict:
    """Dataset scores of one tracker's runs `{sequence: run}` against `{sequence: regions}`.

    `interval` = (low, high) for EAO, or None to derive it from the sequence lengths
    (`eao_interval`). Returns eao, accuracy, accuracy_pooled, robustness, failures,
    frames, the EAO interval and curve, and per-sequence scores.
    """
    per_seq = {name: sequence_scores(run, regions[name], burnin) for name, run in runs.items()}
    lengths = [s["frames"] for s in per_seq.values()]
    if interval is None:
        low, high, _ = eao_interval(lengths)
    else:
        low, high = int(interval[0]), int(interval[1])
    fragments = [
        f for name, run in runs.items() for f in subsequences(run.codes, per_seq[name]["overlaps"])
    ]
    curve = expected_overlap_curve(fragments, max(lengths))
    accs = [s["accuracy"] for s in per_seq.values() if not math.isnan(s["accuracy"])]
    pooled = [
        s["overlaps"][accuracy_mask(runs[name].codes, s["overlaps"], burnin)]
        for name, s in per_seq.items()
    ]
    pooled = np.concatenate(pooled) if pooled else np.zeros(0)
    failures = sum(s["failures"] for s in per_seq.values())
    frames = sum(lengths)
    nan = float("nan")
    return {
        "eao": expected_average_overlap(curve, low, high),
        "accuracy": float(np.mean(accs)) if accs else nan,
        "accuracy_pooled": float(pooled.mean()) if pooled.size else nan,
        "robustness": 100.0 * failures / frames if frames else nan,
        "failures": failures,
        "frames": frames,
        "eao_interval": [low, high],
        "eao_curve": curve.tolist(),
        "sequences": {
            name: {k: v for k, v in s.items() if k != "overlaps"} for name, s in per_seq.items()
        },
    }
