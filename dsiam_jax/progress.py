"""Progress of long jobs: durations written `1h02m03s` (training's progress line, in
`train/metrics_log`), and a done / total line with rate and ETA written at most every
so many seconds (evaluation's tracked sequences, the student search's iterations)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def format_duration(seconds: float) -> str:
    """`1h02m03s` style; `?` when unknown (not finite)."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class ProgressLine:
    """`label: done/total unit, R unit/s, ETA t` through `log`, at most every
    `every_s` seconds and always for the last item. The rate and ETA are over the
    items done since the line was created: a resumed job passes `first_done`, the
    items finished before it started."""

    def __init__(
        self,
        label: str,
        total: int,
        unit: str,
        log: Callable[[str], None],
        every_s: float = 30.0,
        clock: Callable[[], float] = time.perf_counter,
        first_done: int = 0,
    ):
        self.label, self.total, self.unit, self.log = label, total, unit, log
        self.first_done = first_done
        self.every_s, self.clock = every_s, clock
        self.start = self.last = clock()

    def update(self, done: int, extra: str = "") -> None:
        """`done` items of `total` are finished; `extra` is appended to the line."""
        now = self.clock()
        if done < self.total and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = now - self.start
        rate = (done - self.first_done) / elapsed if elapsed > 0 else math.nan
        eta = (self.total - done) / rate if rate > 0 else math.nan
        self.log(
            f"{self.label}: {done}/{self.total} {self.unit}, {rate:.3g} {self.unit}/s, "
            f"ETA {format_duration(eta)}{extra}"
        )
