"""One-pass benchmark evaluation of one or more trackers (run by `dsiam_jax.jobs.evaluate`).

From Python:

    report = evaluate(models, sequences, tracker_config, workdir)

Writes under `workdir`:
- `results/<tracker>/<seq>.txt` (x,y,w,h per frame, frame 1 = initial box),
  `<seq>_time.txt` (seconds per frame), `<seq>_score.txt` (confidence),
- `eval.json`: per tracker `success_auc`, `precision_20`, `norm_precision`, `ao`,
  `sr50`, `sr75`, `fps` (whole tracking step), `network_fps` (network alone),
  curves, and per-sequence scores (conventions: `dsiam_jax.evaluation.metrics`);
  `skipped` and `failed` (sequence -> reason: no usable initial box; an unreadable
  frame or an initial box outside the frame) and `warnings`,
- `eval_summary.md` (one row per tracker, then the sequences not scored and why),
  `eval_sequences.md` (one row per sequence), `success_plot.png`,
  `precision_plot.png` (all trackers on one plot).
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dsiam_jax.errors import UserError
from dsiam_jax.evaluation import metrics as metrics_lib
from dsiam_jax.evaluation import results_io, tables_plots
from dsiam_jax.evaluation.sequence_checks import CheckedSequence, initial_box_problem
from dsiam_jax.progress import ProgressLine
from dsiam_jax.tracking.batched import track_batched
from dsiam_jax.tracking.network import resolve_backend
from dsiam_jax.tracking.runner import frames_per_second, run_sequence
from dsiam_jax.tracking.tracker import build_tracker
from dsiam_jax.workdir import safe_name

CONVENTIONS = {
    "success_auc": "OTB: mean over 21 IoU thresholds linspace(0,1,21) of the fraction of "
    "annotated frames (frame 1 included) with IoU > t; curves averaged over sequences",
    "precision_20": "OTB: fraction of annotated frames with centre error <= 20 px "
    "(centres x+(w-1)/2), averaged over sequences",
    "norm_precision": "TrackingNet/LaSOT (pytracking): centre error after dividing centres "
    "by the ground-truth size, fraction <= 0.2, averaged over sequences",
    "ao": "GOT-10k: mean IoU (boxes clipped to the image) over frames 2..N that are "
    "annotated and visible, pooled over all sequences",
    "sr50": "GOT-10k: fraction of those frames with IoU > 0.5",
    "sr75": "GOT-10k: fraction of those frames with IoU > 0.75",
    "fps": "whole tracking step (frame upload, crop, network, post-processing, box fetch); "
    "frames 2..N, after compilation, decoding excluded",
    "network_fps": "network alone (search branch + head on the search crops, all scales), "
    "median of repeated calls after warm-up",
}

_PER_SEQUENCE_KEYS = (
    "frames",
    "success_auc",
    "precision_20",
    "norm_precision",
    "ao",
    "sr50",
    "sr75",
)


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> None, NumPy scalars -> Python."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _visible(seq) -> np.ndarray:
    vis = getattr(seq, "visible", None)
    return np.ones(len(seq), bool) if vis is None else np.asarray(vis, bool)


def evaluate_tracker_results(
    result_dir: str | pathlib.Path,
    sequences: list,
    image_sizes: Mapping[str, tuple] | None = None,
    convention: str = "got10k",
) -> dict:
    """Metrics of result files already in `result_dir` (`<seq>.txt`, optional `_time.txt`),
    OTB-style numbers by `convention` (`metrics.CONVENTIONS`)."""
    result_dir = pathlib.Path(result_dir)
    per_seq: dict[str, dict] = {}
    times = []
    for seq in sequences:
        name = safe_name(seq.name)
        pred = results_io.read_boxes(result_dir / f"{name}.txt")
        size = (image_sizes or {}).get(seq.name) or getattr(seq, "image_size", None)
        per_seq[seq.name] = metrics_lib.sequence_metrics(
            pred, seq.boxes, _visible(seq), size, convention, getattr(seq, "dataset", "")
        )
        time_file = result_dir / f"{name}_time.txt"
        if time_file.is_file():
            times.append(results_io.read_values(time_file)[1:])
    overall = metrics_lib.aggregate(list(per_seq.values()), convention)
    overall["fps"] = frames_per_second(np.concatenate(times) if times else np.zeros(0))
    return {"overall": overall, "sequences": per_seq}


def evaluate(
    models: Mapping[str, Any],
    sequences: list,
    tracker_config: Mapping[str, Any] | None,
    workdir: str | pathlib.Path,
    *,
    backend: str = "jax",
    batched: bool = False,
    batch_size: int = 8,
    chunk: int = 8,
    batch_impl: str = "auto",
    network_repeats: int = 10,
    plots: bool = True,
    log: Callable[[str], None] = print,
    convention: str = "got10k",
) -> dict:
    """Tracks every sequence with every model, writes results and reports; returns eval.json.

    Args:
      models: `{name: TrackerModel}` (e.g. from `checkpoints.load_many`).
      sequences: `data_pipelines.sequences.Sequence` objects (name, boxes,
        visible, load_frame); the first box of each starts the tracker.
      tracker_config: the `config.tracker` section (None = SPEC defaults).
      workdir: output folder.
      backend: network backend (`dsiam_jax.tracking.network.BACKENDS`).
      batched: many sequences at once (`track_batched`) instead of one by one.
      convention: whose rules score the OTB-style numbers (`metrics.CONVENTIONS`).

    A sequence whose initial box cannot start a tracker is *skipped*; one whose frames
    cannot be read, or whose initial box lies outside frame 1, *fails*
    (`sequence_checks`). Both are listed with their reason (`eval.json`: `skipped`,
    `failed`; `eval_summary.md`) and every tracker is scored on the other sequences.
    """
    workdir = pathlib.Path(workdir)
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    warnings: list[str] = []

    def warn(text: str) -> None:
        warnings.append(text)
        log(f"warning: {text}")

    checked = []
    for seq in sequences:
        problem = initial_box_problem(seq)
        if problem is not None:
            skipped[seq.name] = problem
            warn(f"skipping sequence {seq.name}: {problem}")
            continue
        c = CheckedSequence(seq, warn)
        if c.check_start() is not None:
            failed[seq.name] = c.failure
            warn(f"sequence {seq.name} failed: {c.failure}")
        else:
            checked.append(c)
    if not checked:
        raise UserError(
            "no sequence has an annotated first frame a tracker can start from: "
            + "; ".join(f"{n}: {r}" for n, r in list({**skipped, **failed}.items())[:3])
        )
    runs: dict[str, dict[str, Any]] = {}  # tracker -> what its scoring needs
    for name, model in models.items():
        todo = [c for c in checked if c.failure is None]
        if not todo:
            break
        # Batched runs trace the network; the model's info may allow its int8 graphs.
        chosen = resolve_backend(backend, jittable=batched, model_info=model.info)
        tracker = build_tracker(model, tracker_config, chosen)
        out_dir = results_io.tracker_dir(workdir, name)
        log(f"tracking {len(todo)} sequences with {name} ({model.spec.kind}, {chosen})")
        t0 = time.perf_counter()
        if batched:
            results = track_batched(tracker, todo, None, batch_size, chunk, batch_impl)
        else:
            progress = ProgressLine(f"  {name}", len(todo), "sequences", log)
            results, frames = [], 0
            for seq in todo:
                results.append(run_sequence(tracker, seq))
                frames += len(results[-1].boxes)
                wall_s = time.perf_counter() - t0
                progress.update(len(results), f", {frames / wall_s:.1f} frames/s with loading")
        wall = time.perf_counter() - t0
        for c, res in zip(todo, results):
            if c.failure is not None:
                failed[c.name] = c.failure
                warn(f"sequence {c.name} failed: {c.failure}")
            else:
                results_io.write_sequence(out_dir, c.name, res.boxes, res.times, res.scores)
        net_s = tracker.network_seconds(network_repeats) if network_repeats > 0 else math.nan
        runs[name] = {
            "model": model,
            "out_dir": out_dir,
            "results": {c.name: r for c, r in zip(todo, results)},
            "wall": wall,
            "network_fps": 1.0 / net_s if net_s > 0 else math.nan,
        }
    scored = [c for c in checked if c.failure is None]
    report: dict[str, Any] = {
        "trackers": {},
        "conventions": CONVENTIONS,
        "convention": convention,
        "skipped": skipped,
        "failed": failed,
        "warnings": warnings,
    }
    for name, run in runs.items():
        for seq_name in failed:  # no stale result of a sequence that failed now
            results_io.remove_sequence(run["out_dir"], seq_name)
        if scored:
            report["trackers"][name] = _tracker_scores(run, scored, batched, convention)
            o = report["trackers"][name]
            network = o["network_fps"]  # not measured (nan / None) with network_repeats=0
            network = f" (network {network:.1f} fps)" if network and math.isfinite(network) else ""
            log(
                f"  {name}: AUC {o['success_auc']:.3f}  P@20 {o['precision_20']:.3f}  "
                f"AO {o['ao']:.3f}  {o['fps']:.1f} fps{network}"
            )
    write_report(report, workdir, plots)
    if not scored:
        raise UserError(
            f"every sequence failed (reasons in {workdir / 'eval.json'}), e.g. "
            + "; ".join(f"{n}: {r}" for n, r in list(failed.items())[:2])
        )
    return _clean(report)


def _tracker_scores(
    run: Mapping[str, Any], scored: list, batched: bool, convention: str = "got10k"
) -> dict[str, Any]:
    """One tracker's entry of eval.json, over the sequences that did not fail."""
    results = run["results"]
    sizes = {c.name: results[c.name].image_size for c in scored}
    scores = evaluate_tracker_results(run["out_dir"], scored, sizes, convention)
    overall = scores["overall"]
    model = run["model"]
    overall["network_fps"] = run["network_fps"]
    overall["run"] = "batched" if batched else "single"
    overall["wall_seconds"] = run["wall"]
    overall["model"] = {
        "kind": model.spec.kind,
        "channels": list(model.spec.channels),
        "role": getattr(model, "role", "model"),
    }
    per_seq = {
        s: {k: m[k] for k in _PER_SEQUENCE_KEYS} | {"fps": results[s].fps}
        for s, m in scores["sequences"].items()
    }
    return {**overall, "sequences": per_seq}


def write_report(report: dict, workdir: pathlib.Path, plots: bool = True) -> None:
    """eval.json, the two markdown tables and (optionally) the two plots."""
    workdir.mkdir(parents=True, exist_ok=True)
    trackers = report["trackers"]
    not_scored = {**report.get("skipped", {}), **report.get("failed", {})}
    (workdir / "eval.json").write_text(json.dumps(_clean(report), indent=2) + "\n")
    (workdir / "eval_summary.md").write_text(tables_plots.summary_table(trackers, not_scored))
    per_seq = {t: v["sequences"] for t, v in trackers.items()}
    (workdir / "eval_sequences.md").write_text(tables_plots.sequence_table(per_seq))
    if plots:
        tables_plots.plot_success(trackers, workdir / "success_plot.png")
        tables_plots.plot_precision(trackers, workdir / "precision_plot.png")
