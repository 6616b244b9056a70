"""The plain one-sequence tracking loop, timed per frame.

    result = run_sequence(tracker, sequence)        # a data_pipelines Sequence
    result = run_frames(tracker, load, n, init_box) # any frame loader

Frame decoding is not timed; each frame's time covers the host-to-device copy,
the compiled step and fetching the box (the whole tracking step). Compilation is
done before timing (`Tracker.warmup` per frame size), so a sequence whose frame
size changes recompiles outside the timed region instead of failing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.tracker import Tracker


@dataclasses.dataclass
class TrackResult:
    """One tracked sequence.

    Attributes:
      boxes: `[N, 4]` float64 (x, y, w, h); row 0 is the initial box as given.
      scores: `[N]` float64 confidence per frame (1.0 for the initial frame).
      times: `[N]` float64 seconds per frame (row 0: init); batched runs give every
        frame the batch's amortised time.
    """

    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray
    image_size: tuple[int, int] | None = None  # (W, H) of the first frame

    @property
    def fps(self) -> float:
        """Tracked frames (after the first) per second of tracking time."""
        t = self.times[1:]
        t = t[np.isfinite(t)]
        return float(len(t) / t.sum()) if len(t) and t.sum() > 0 else float("nan")


def run_frames(
    tracker: Tracker,
    load: Callable[[int], Any],
    num_frames: int,
    init_box: Any,
    warmup: bool = True,
    on_frame: Callable[[int, np.ndarray, np.ndarray, float], None] | None = None,
) -> TrackResult:
    """Tracks frames `load(0) .. load(num_frames - 1)` from `init_box` in frame 0.

    `on_frame(i, frame, box, score)` is called after every frame (e.g. to draw it).
    """
    if num_frames < 1:
        raise F.TrackingInputError("cannot track a sequence with no frames")
    init_box = np.asarray(F.parse_box(init_box) if isinstance(init_box, str) else init_box)
    boxes = np.zeros((num_frames, 4), np.float64)
    scores = np.ones(num_frames, np.float64)
    times = np.zeros(num_frames, np.float64)
    boxes[0] = init_box.astype(np.float64).reshape(4)
    frame = F.prepare_frame(load(0))
    first_shape = frame.shape
    if warmup:
        tracker.warmup(frame.shape)
    t0 = time.perf_counter()
    state = tracker.init(frame, init_box)
    jax.block_until_ready(state)
    times[0] = time.perf_counter() - t0
    if on_frame is not None:
        on_frame(0, frame, boxes[0], 1.0)
    for i in range(1, num_frames):
        frame = F.prepare_frame(load(i))
        if warmup:
            tracker.warmup(frame.shape)
        t0 = time.perf_counter()
        state, box, score = tracker.track_device(state, frame)
        box, score = np.asarray(box), float(score)  # waits for the step
        times[i] = time.perf_counter() - t0
        boxes[i], scores[i] = box, score
        if on_frame is not None:
            on_frame(i, frame, boxes[i], score)
    return TrackResult(boxes, scores, times, (first_shape[1], first_shape[0]))


def run_sequence(tracker: Tracker, sequence, warmup: bool = True) -> TrackResult:
    """Tracks a `data_pipelines.sequences.Sequence` from its first annotated box."""
    return run_frames(tracker, sequence.load_frame, len(sequence), sequence.boxes[0], warmup)
