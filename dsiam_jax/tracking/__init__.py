"""Trackers (SiamFC, SiamRPN) as pure jitted functions, runners, video I/O.

    from dsiam_jax.tracking import build_tracker, run_sequence, track_batched
    tracker = build_tracker(model, config.tracker)   # model: models.TrackerModel
    state = tracker.init(frame, (x, y, w, h))
    state, box, score = tracker.track(state, frame)

Modules: `tracker` (build_tracker, Tracker: init_fn / track_fn), `network`
(TrackerNetwork, backends), `siamfc` / `siamrpn` (crops and post-processing),
`state` (TrackState, box clamps), `frames` (input checks), `runner` (one sequence),
`batched` (many sequences), `adapter` (got10k toolkit), `video` (frame sources,
annotated output; mode=track is `dsiam_jax.jobs.track`).
"""

from dsiam_jax.tracking.batched import track_batched
from dsiam_jax.tracking.frames import TrackingInputError, prepare_frame
from dsiam_jax.tracking.network import BACKENDS, CropGeometry, TrackerNetwork
from dsiam_jax.tracking.runner import (
    TrackResult,
    frames_per_second,
    run_frames,
    run_sequence,
    track_frames,
)
from dsiam_jax.tracking.state import TrackState
from dsiam_jax.tracking.tracker import Tracker, build_tracker

__all__ = [
    "BACKENDS",
    "CropGeometry",
    "TrackResult",
    "TrackState",
    "Tracker",
    "TrackerNetwork",
    "TrackingInputError",
    "build_tracker",
    "frames_per_second",
    "prepare_frame",
    "run_frames",
    "run_sequence",
    "track_batched",
    "track_frames",
]
