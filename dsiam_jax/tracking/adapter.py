"""got10k-toolkit style tracker: `init(image, box)`, `update(image) -> box` on PIL images.

    from got10k.experiments import ExperimentOTB
    tracker = ToolkitTracker(model, config.tracker)      # model: TrackerModel
    ExperimentOTB("data/OTB", version=2015).run(tracker)

Subclasses `got10k.trackers.Tracker` when the toolkit is installed (so its
`track(img_files, box)` loop and the experiments accept it); otherwise it is a
standalone class with the same methods. Boxes are (left, top, w, h) arrays.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from dsiam_jax.tracking.frames import prepare_frame
from dsiam_jax.tracking.tracker import Tracker, build_tracker

try:  # the toolkit is optional
    from got10k.trackers import Tracker as _ToolkitBase
except ImportError:  # pragma: no cover - exercised only without got10k

    class _ToolkitBase:
        def __init__(self, name: str, is_deterministic: bool = False):
            self.name = name
            self.is_deterministic = is_deterministic


class ToolkitTracker(_ToolkitBase):
    """Adapts a dsiam_jax tracker to the got10k toolkit's tracker interface."""

    def __init__(
        self,
        model: Any,
        tracker_config: Mapping[str, Any] | None = None,
        name: str | None = None,
        backend: str = "jax",
    ):
        tracker = (
            model if isinstance(model, Tracker) else build_tracker(model, tracker_config, backend)
        )
        super().__init__(name=name or tracker.name, is_deterministic=True)
        self.tracker = tracker
        self.state = None
        self.score = float("nan")  # confidence of the last update

    def init(self, image, box) -> None:
        """Starts on `image` (PIL or array) at `box` (left, top, w, h)."""
        frame = prepare_frame(image)
        self.tracker.warmup(frame.shape)
        self.state = self.tracker.init(frame, box)

    def update(self, image) -> np.ndarray:
        """The box `[4]` (left, top, w, h) in `image`."""
        if self.state is None:
            raise RuntimeError("ToolkitTracker.update called before init")
        frame = prepare_frame(image)
        self.tracker.warmup(frame.shape)
        self.state, box, self.score = self.tracker.track(self.state, frame)
        return box

    def track(self, img_files, box, visualize: bool = False):
        """(boxes `[N, 4]`, times `[N]`) over image files, like the toolkit's loop."""
        del visualize
        boxes = np.zeros((len(img_files), 4))
        times = np.zeros(len(img_files))
        boxes[0] = box
        for f, path in enumerate(img_files):
            with Image.open(path) as img:
                image = img.convert("RGB")
            start = time.time()
            if f == 0:
                self.init(image, box)
            else:
                boxes[f] = self.update(image)
            times[f] = time.time() - start
        return boxes, times
