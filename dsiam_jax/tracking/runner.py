"""The plain one-sequence tracking loop, timed per frame, and the frames/s of such times.

    result = run_sequence(tracker, sequence)        # a data_pipelines Sequence
    result = run_frames(tracker, load, n, init_box) # any frame loader
    result = track_frames(tracker, frames, init_box) # any iterable of frames (a video)
    step = StepTracker(tracker)                      # init(frame, box) / update(frame) -> box

Frame decoding is not timed; each frame's time covers the host-to-device copy,
the compiled step and fetching the box (the whole tracking step). Compilation is
done before timing (`Tracker.warmup` per frame size), so a sequence whose frame
size changes recompiles outside the timed region instead of failing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
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
        return frames_per_second(self.times[1:])


def frames_per_second(seconds: Any) -> float:
    """Frames per second of per-frame `seconds` (frame 1, the init, left out by the caller).

    Times that are not finite or not positive (unknown) are left out; NaN when none is left.
    """
    t = np.asarray(seconds, np.float64).reshape(-1)
    t = t[np.isfinite(t) & (t > 0)]
    return float(len(t) / t.sum()) if len(t) else float("nan")


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
    frames = (load(i) for i in range(num_frames))
    return track_frames(tracker, frames, init_box, warmup, on_frame)


def track_frames(
    tracker: Tracker,
    frames: Iterable[Any],
    init_box: Any,
    warmup: bool = True,
    on_frame: Callable[[int, np.ndarray, np.ndarray, float], None] | None = None,
) -> TrackResult:
    """Tracks every frame of `frames` (any iterable: a video is read once, in order)
    from `init_box` (x, y, w, h, or its text) in the first one.

    A bad initial box fails on the first frame, before anything compiles.
    `on_frame(i, frame, box, score)` is called after every frame.
    """
    init_box = np.asarray(F.parse_box(init_box) if isinstance(init_box, str) else init_box)
    boxes = [init_box.astype(np.float64).reshape(4)]  # [4] per frame
    scores = [1.0]
    times = []
    state = None
    first_shape = None
    for i, raw in enumerate(frames):
        frame = F.prepare_frame(raw)
        if i == 0:
            F.check_init_box(init_box, frame.shape[:2])  # fails before compiling
            first_shape = frame.shape
        if warmup:
            tracker.warmup(frame.shape)  # compiles once per frame size, outside the timing
        t0 = time.perf_counter()
        if i == 0:
            state = tracker.init(frame, init_box)
            jax.block_until_ready(state)
            times.append(time.perf_counter() - t0)
        else:
            state, box, score = tracker.track_device(state, frame)
            box, score = np.asarray(box, np.float64), float(score)  # waits for the step
            times.append(time.perf_counter() - t0)
            boxes.append(box)
            scores.append(score)
        if on_frame is not None:
            on_frame(i, frame, boxes[i], scores[i])
    if first_shape is None:
        raise F.TrackingInputError("cannot track a sequence with no frames")
    return TrackResult(
        np.stack(boxes),  # [N, 4]
        np.asarray(scores, np.float64),  # [N]
        np.asarray(times, np.float64),  # [N]
        (first_shape[1], first_shape[0]),
    )


def run_sequence(tracker: Tracker, sequence, warmup: bool = True) -> TrackResult:
    """Tracks a `data_pipelines.sequences.Sequence` from its first annotated box."""
    return run_frames(tracker, sequence.load_frame, len(sequence), sequence.boxes[0], warmup)


class StepTracker:
    """A `Tracker` behind the one-target `init(frame, box)` / `update(frame) -> box`
    interface (the VOT reset protocol's, `dsiam_jax.evaluation.vot`).

    Compiles outside the timed calls like `track_frames` (`Tracker.warmup` per frame size).
    """

    def __init__(self, tracker: Tracker, warmup: bool = True):
        self.tracker = tracker
        self.warmup = warmup
        self.state = None

    def init(self, frame: Any, box: Any) -> None:
        """(Re)starts tracking `box` (x, y, w, h) in `frame`."""
        frame = F.prepare_frame(frame)
        if self.warmup:
            self.tracker.warmup(frame.shape)
        self.state = self.tracker.init(frame, box)
        jax.block_until_ready(self.state)

    def update(self, frame: Any) -> np.ndarray:
        """Tracks into `frame`; returns its box `[4]` float64 (x, y, w, h)."""
        if self.state is None:
            raise F.TrackingInputError("StepTracker.update before init")
        frame = F.prepare_frame(frame)
        if self.warmup:
            self.tracker.warmup(frame.shape)
        self.state, box, _ = self.tracker.track(self.state, frame)
        return box
