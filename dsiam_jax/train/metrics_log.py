"""Training metrics: clu metric writers (TensorBoard + log lines), `metrics.jsonl`, progress.

Every `log_every` steps the means of the metrics since the last write go to
- the clu default writer (`clu.metric_writers.create_default_writer`): TensorBoard
  event files in the workdir plus `[step] name=value` log lines; processes other
  than 0 only log (`just_logging`). Without TensorFlow (clu's writers need it;
  accelerator machines may lack it) the same events are written through the
  `tensorboard` package's own event-file writer, which needs no TensorFlow, and
  without that package too, log lines only;
- `WORKDIR/metrics.jsonl` (process 0): one JSON object per write, `{"step": s, ...}`,
  each step once: a resumed run first moves the lines of steps it will redo (those
  after its checkpoint, written before a kill) to `metrics.superseded.jsonl`;
- a progress line: step, loss, steps/s, pairs/s and ETA.
Timing starts after the first step of a run (which includes compilation).

`counters` (optional) returns cumulative numbers that are not per-step means, e.g.
the input pipeline's `unreadable_frames`; they are written with every interval and
named in the progress line when not zero.
"""

from __future__ import annotations

import json
import os
import pathlib
import time
from collections.abc import Callable, Mapping

from absl import logging

from dsiam_jax.progress import format_duration


class _LoggingOnlyWriter:
    """The part of clu's MetricWriter interface used here, as plain log lines."""

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        text = ", ".join(f"{k}={v:.6g}" for k, v in sorted(scalars.items()))
        logging.info("[%d] %s", step, text)

    def write_hparams(self, hparams: Mapping[str, object]) -> None:
        logging.info("hparams: %s", dict(hparams))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _EventFileWriter(_LoggingOnlyWriter):
    """Log lines plus TensorBoard scalars written by the `tensorboard` package alone
    (its `EventFileWriter`, as PyTorch's SummaryWriter uses it): no TensorFlow needed."""

    def __init__(self, workdir: str | pathlib.Path):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._event, self._summary = event_pb2.Event, summary_pb2.Summary
        self._file = EventFileWriter(str(workdir))

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        super().write_scalars(step, scalars)
        values = [self._summary.Value(tag=k, simple_value=float(v)) for k, v in scalars.items()]
        summary = self._summary(value=values)
        self._file.add_event(self._event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def create_writer(workdir: str | pathlib.Path, main_process: bool):
    """clu's default writer (TensorBoard on process 0); without TensorFlow, the
    `tensorboard` package's event files on process 0; else log lines only."""
    try:
        from clu import metric_writers  # imports TensorFlow for its summary writer
    except ImportError as e:
        if not main_process:
            return _LoggingOnlyWriter()
        try:
            return _EventFileWriter(workdir)
        except ImportError as e2:
            logging.warning("no TensorBoard writer (%s; %s): logging metrics only", e, e2)
            return _LoggingOnlyWriter()
    return metric_writers.create_default_writer(
        str(workdir), just_logging=not main_process, asynchronous=False
    )


class MetricsLogger:
    """Accumulates per-step host metrics and writes interval means."""

    def __init__(
        self,
        workdir: str | pathlib.Path,
        *,
        num_steps: int,
        global_batch_size: int,
        log_every: int,
        main_process: bool,
        counters: Callable[[], Mapping[str, float]] | None = None,
    ):
        self.writer = create_writer(workdir, main_process)
        self.jsonl_path = pathlib.Path(workdir) / "metrics.jsonl" if main_process else None
        self.jsonl = None  # opened at the first step, after `_supersede_from`
        self.counters = counters
        self.num_steps = num_steps
        self.batch_size = global_batch_size
        self.log_every = max(1, int(log_every))
        self._sums: dict[str, float] = {}
        self._count = 0
        self._t0: float | None = None  # time after the first step of this run
        self._first_step = 0
        self._last_step = 0

    def add(self, step: int, metrics: Mapping[str, float]) -> None:
        """Adds one step's metrics; writes when `step` is a logging step."""
        for k, v in metrics.items():
            self._sums[k] = self._sums.get(k, 0.0) + float(v)
        self._count += 1
        self._last_step = step
        now = time.perf_counter()
        if self._t0 is None:
            self._t0, self._first_step = now, step
            if self.jsonl_path is not None:
                _supersede_from(self.jsonl_path, step)
                self.jsonl = self.jsonl_path.open("a")
        if step % self.log_every == 0 or step == self.num_steps:
            self.write(step, now)

    def write(self, step: int, now: float | None = None) -> dict[str, float]:
        """Writes the means since the last write (plus speed and ETA); returns them."""
        if not self._count:
            return {}
        now = time.perf_counter() if now is None else now
        scalars = {k: v / self._count for k, v in self._sums.items()}
        elapsed = now - self._t0 if self._t0 is not None else 0.0
        if step > self._first_step and elapsed > 0:
            steps_per_s = (step - self._first_step) / elapsed
            scalars["steps_per_sec"] = steps_per_s
            scalars["pairs_per_sec"] = steps_per_s * self.batch_size
            eta = (self.num_steps - step) / steps_per_s
        else:
            eta = float("nan")
        counted = {k: float(v) for k, v in (self.counters() if self.counters else {}).items()}
        scalars.update(counted)
        self.writer.write_scalars(step, scalars)
        if self.jsonl is not None:
            self.jsonl.write(json.dumps({"step": step, **scalars}, sort_keys=True) + "\n")
            self.jsonl.flush()
        speed = f"{scalars['steps_per_sec']:.2f} steps/s" if "steps_per_sec" in scalars else ""
        noted = "".join(f", {k.replace('_', ' ')} {v:g}" for k, v in counted.items() if v)
        logging.info(
            "step %d/%d (%.0f%%): loss %.5g, lr %.3g, %s, ETA %s%s",
            step,
            self.num_steps,
            100.0 * step / self.num_steps,
            scalars.get("loss", float("nan")),
            scalars.get("lr", float("nan")),
            speed or "speed after the next log",
            format_duration(eta),
            noted,
        )
        self._sums, self._count = {}, 0
        return scalars

    def close(self) -> None:
        if self._count:
            self.write(self._last_step)
        self.writer.flush()
        self.writer.close()
        if self.jsonl is not None:
            self.jsonl.close()


def _supersede_from(path: pathlib.Path, first_step: int) -> None:
    """Moves the lines of steps >= `first_step` (and unreadable ones, e.g. cut by a
    kill) from `path` to `<stem>.superseded.jsonl`, so every step appears once."""
    if not path.is_file():
        return
    keep, moved = [], []
    for line in path.read_text().splitlines():
        try:
            earlier = int(json.loads(line)["step"]) < first_step
        except (ValueError, KeyError, TypeError):
            earlier = False
        (keep if earlier else moved).append(line)
    if not moved:
        return
    with path.with_name(f"{path.stem}.superseded.jsonl").open("a") as f:
        f.write("".join(line + "\n" for line in moved))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in keep))
    os.replace(tmp, path)
