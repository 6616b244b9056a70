"""What can go wrong with one benchmark sequence, found without stopping the others.

- `initial_box_problem(seq)`: the first box cannot start a tracker (not annotated,
  not finite, zero or negative width or height); the sequence is *skipped*.
- `CheckedSequence(seq)`: the sequence as trackers read it. `check_start()` decodes
  frame 1 and checks the initial box against it (an unreadable frame or a box outside
  the frame *fails* the sequence); a frame that cannot be read later fails it too,
  and is replaced by a blank frame so that a batch of sequences keeps going. A frame
  whose size differs from frame 1's is tracked, with a warning.
Failed and skipped sequences are listed with their reason in `eval.json` and
`eval_summary.md` and are left out of every tracker's scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dsiam_jax.errors import UserError
from dsiam_jax.tracking import frames as F


def initial_box_problem(seq: Any) -> str | None:
    """Why frame 1's box cannot start a tracker (None when it can)."""
    if len(seq) == 0:
        return "the sequence has no frames"
    box = np.asarray(seq.boxes[0], np.float64).reshape(-1)
    shown = [round(float(v), 3) for v in box]
    if box.shape != (4,) or np.isnan(box).any():
        return f"frame 1 is not annotated (box {shown})"
    if not np.isfinite(box).all():
        return f"the initial box {shown} is not finite"
    bad = [name for name, v in (("width", box[2]), ("height", box[3])) if v <= 0]
    if bad:
        sign = "negative" if min(box[2], box[3]) < 0 else "zero"
        return f"the initial box {shown} (x, y, w, h) has a {sign} {' and '.join(bad)}"
    return None


class CheckedSequence:
    """A sequence whose frame failures are recorded instead of raised (see module doc).

    Attributes other than `load_frame` come from the wrapped sequence.
    """

    def __init__(self, seq: Any, warn: Callable[[str], None]):
        self.seq = seq
        self.warn = warn
        self.failure: str | None = None
        self._shape: tuple[int, ...] | None = None  # frame 1's shape (check_start)
        self._last_shape: tuple[int, ...] | None = None
        self._size_warned = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.seq, name)

    def __len__(self) -> int:
        return len(self.seq)

    def check_start(self) -> str | None:
        """Decodes frame 1 and checks the initial box on it; returns (and records) the
        reason the sequence fails, or None."""
        try:
            frame = F.prepare_frame(self.seq.load_frame(0))
            F.check_init_box(self.seq.boxes[0], frame.shape[:2])
        except (UserError, OSError) as e:
            self.failure = " ".join(str(e).split())
            return self.failure
        self._shape = self._last_shape = frame.shape
        return None

    def load_frame(self, i: int) -> np.ndarray:
        """Frame `i`; a blank frame (and a recorded failure) when it cannot be read."""
        if self.failure is not None:
            return np.zeros(self._last_shape or (1, 1, 3), np.uint8)
        try:
            frame = F.prepare_frame(self.seq.load_frame(i))
        except (UserError, OSError) as e:
            self.failure = f"frame {i + 1}: {' '.join(str(e).split())}"
            return np.zeros(self._last_shape or (1, 1, 3), np.uint8)
        if self._shape is None:
            self._shape = frame.shape
        if frame.shape != self._shape and not self._size_warned:
            self._size_warned = True
            (h0, w0), (h, w) = self._shape[:2], frame.shape[:2]
            self.warn(
                f"sequence {self.seq.name}: frame {i + 1} is {w}x{h} but frame 1 is {w0}x{h0}; "
                "tracking goes on in the new size, and the GOT-10k clipping uses frame 1's"
            )
        self._last_shape = frame.shape
        return frame
